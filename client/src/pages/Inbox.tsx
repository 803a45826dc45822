import { useCallback, useEffect, useMemo, useRef, useState } from 'react'
import { Link, useLocation } from 'wouter'
import { useQuery, useSubscription } from 'urql'
import { RequestDetail } from '../components/RequestDetail'
import { graphql } from '../gql'
import { humanize, timeLeft, titleWithCount } from '../lib/format'
import { useLiveConnection, useNow, useShortcuts } from '../lib/hooks'

const InboxQuery = graphql(`
  query Inbox {
    approvalInbox(first: 100) {
      edges {
        node {
          id
          actionType
          summary
          createdAt
          expiresAt
          escalated
          requester {
            __typename
            name
          }
          onBehalfOf {
            name
          }
          rule {
            name
          }
        }
      }
    }
  }
`)

const InboxEvents = graphql(`
  subscription InboxEvents {
    approvalInbox {
      type
      request {
        id
        status
      }
    }
  }
`)

const SEEN_KEY = 'approvals.seen'

function useSeen(): [Set<string>, (id: string) => void] {
  const [seen, setSeen] = useState(() => new Set<string>(JSON.parse(sessionStorage.getItem(SEEN_KEY) ?? '[]') as string[]))
  const markSeen = useCallback((id: string) => {
    setSeen((prev) => {
      if (prev.has(id)) return prev
      const next = new Set(prev).add(id)
      sessionStorage.setItem(SEEN_KEY, JSON.stringify([...next]))
      return next
    })
  }, [])
  return [seen, markSeen]
}

export function InboxPage({ selectedId }: { selectedId?: string }) {
  const [{ data, fetching, error }, refetch] = useQuery({ query: InboxQuery, requestPolicy: 'cache-and-network' })
  const [, navigate] = useLocation()
  const now = useNow()
  const [seen, markSeen] = useSeen()
  const [detailVersion, setDetailVersion] = useState(0)
  // any change to the inbox: read it again (and the open request, which may have been decided elsewhere)
  useSubscription({ query: InboxEvents }, (_prev, event) => {
    refetch({ requestPolicy: 'network-only' })
    setDetailVersion((v) => v + 1)
    return event
  })
  // after a (re)connection, read the inbox again: events sent while the link was down are gone
  const reread = useCallback(() => {
    refetch({ requestPolicy: 'network-only' })
    setDetailVersion((v) => v + 1)
  }, [refetch])
  const live = useLiveConnection(reread)
  useEffect(() => {
    // and now and then anyway, as a safety net
    const timer = setInterval(reread, 60_000)
    return () => clearInterval(timer)
  }, [reread])
  const items = useMemo(() => data?.approvalInbox.edges.map((e) => e.node) ?? [], [data])
  const unread = items.filter((r) => !seen.has(r.id)).length
  useEffect(() => {
    document.title = titleWithCount(unread)
  }, [unread])
  useEffect(() => {
    if (selectedId) markSeen(selectedId)
  }, [selectedId, markSeen])

  // the request shown after a decision: the one after the decided one, else the one before
  const order = useRef<string[]>([])
  order.current = items.map((r) => r.id)
  const openNext = useCallback(
    (decidedId: string) => {
      const ids = order.current
      const at = ids.indexOf(decidedId)
      const rest = ids.filter((id) => id !== decidedId)
      const next = rest[Math.min(Math.max(at, 0), rest.length - 1)]
      navigate(next ? `/inbox/${encodeURIComponent(next)}` : '/inbox')
    },
    [navigate],
  )
  useShortcuts(
    useCallback(
      (key: string) => {
        if (key !== 'j' && key !== 'k') return
        const ids = order.current
        if (ids.length === 0) return
        const at = selectedId ? ids.indexOf(selectedId) : -1
        const next = key === 'j' ? Math.min(at + 1, ids.length - 1) : Math.max(at - 1, 0)
        navigate(`/inbox/${encodeURIComponent(ids[next]!)}`)
      },
      [selectedId, navigate],
    ),
  )

  return (
    <div className={`split ${selectedId ? 'has-detail' : ''}`}>
      <section className="list" aria-label="Inbox">
        <h1>
          Inbox {items.length > 0 && <span className="count">{items.length}</span>}
          <span className={`live ${live ? 'up' : ''}`} title={live ? 'New requests appear as they arrive' : 'Reconnecting…'}>
            {live ? 'Live' : 'Offline'}
          </span>
        </h1>
        {error && <p className="state error">Could not load the inbox: {error.message}</p>}
        {fetching && !data && <p className="state">Loading…</p>}
        {data && items.length === 0 && <p className="state empty">Nothing waits for you. New requests appear here as they arrive.</p>}
        <ol className="requests">
          {items.map((r) => {
            const left = timeLeft(r.expiresAt, now)
            return (
              <li key={r.id} className={`${r.id === selectedId ? 'selected' : ''} ${seen.has(r.id) ? '' : 'unread'}`}>
                <Link href={`/inbox/${encodeURIComponent(r.id)}`} data-request-id={r.id}>
                  <span className="action">{humanize(r.actionType)}</span>
                  <span className="summary">{r.summary ?? <span className="muted">No summary</span>}</span>
                  <span className="meta">
                    {r.requester.name}
                    {r.onBehalfOf && <> for {r.onBehalfOf.name}</>}
                    {r.rule && <> · {r.rule.name}</>}
                    {r.escalated && <> · escalated</>}
                  </span>
                  {left && <span className={`left ${left === 'expired' ? 'late' : ''}`}>{left === 'expired' ? 'expired' : `expires ${left}`}</span>}
                </Link>
              </li>
            )
          })}
        </ol>
        <p className="hint">Keys: j / k to move, a to approve, r to reject.</p>
      </section>
      <section className="detail" aria-label="Request">
        {selectedId ? (
          <RequestDetail key={selectedId} id={selectedId} version={detailVersion} onDecided={openNext} shortcuts />
        ) : (
          <p className="state empty">Select a request to see everything you need to decide it.</p>
        )}
      </section>
    </div>
  )
}
