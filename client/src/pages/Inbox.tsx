import { useCallback, useEffect, useMemo, useRef, useState } from 'react'
import { useLocation } from 'wouter'
import { useQuery, useSubscription } from 'urql'
import { BulkDecisionDialog, useBulkReview, type BulkItem } from '../components/BulkReview'
import { RequestDetail } from '../components/RequestDetail'
import { ActionFilter, PrincipalFilter, RuleFilter, useFilterOptions } from '../components/RequestFilters'
import { InboxListItem, RequestRowFields, requestTitle, rowMatches, type RequestRowData } from '../components/RequestRow'
import { getFragmentData, graphql } from '../gql'
import type { InboxFilter } from '../gql/graphql'
import { UNDO_MS, useDecisions } from '../lib/decisions'
import { errorMessage, titleWithCount } from '../lib/format'
import { formOpen, overlayOpen, useLiveConnection, useNow, useSettled, useShortcuts } from '../lib/hooks'

const InboxQuery = graphql(`
  query Inbox($after: String, $order: InboxOrder, $filter: InboxFilter) {
    approvalInboxCount
    matching: approvalInboxCount(filter: $filter)
    approvalInbox(first: 50, after: $after, order: $order, filter: $filter) {
      pageInfo {
        hasNextPage
        endCursor
      }
      edges {
        node {
          ...RequestRow
        }
      }
    }
  }
`)

const InboxCount = graphql(`
  query InboxCount($filter: InboxFilter) {
    approvalInboxCount
    matching: approvalInboxCount(filter: $filter)
  }
`)

const InboxEvents = graphql(`
  subscription InboxEvents {
    approvalInbox {
      type
      request {
        ...RequestRow
      }
    }
  }
`)

/** The requests selected once in this tab: no longer marked unread. */
const SEEN_KEY = 'approvals.seen'
/** The requests whose detail was on screen a moment in this tab: a decision on several says which it would decide unopened. */
const OPENED_KEY = 'approvals.opened'

/** A set of request IDs kept for the tab (sessionStorage under `key`), and a way to add one. */
function useTabSet(key: string): [ReadonlySet<string>, (id: string) => void] {
  const [ids, setIds] = useState(() => new Set<string>(JSON.parse(sessionStorage.getItem(key) ?? '[]') as string[]))
  const add = useCallback(
    (id: string) => {
      setIds((prev) => {
        if (prev.has(id)) return prev
        const next = new Set(prev).add(id)
        sessionStorage.setItem(key, JSON.stringify([...next]))
        return next
      })
    },
    [key],
  )
  return [ids, add]
}

type InboxOrder = 'DEADLINE' | 'OLDEST' | 'NEWEST'
const ORDER_KEY = 'approvals.inboxOrder'
const ORDERS: { value: InboxOrder; label: string }[] = [
  { value: 'DEADLINE', label: 'Deadline first' },
  { value: 'OLDEST', label: 'Oldest first' },
  { value: 'NEWEST', label: 'Newest first' },
]

/** The next pages of the inbox, past the first: loaded on demand, kept until the inbox is read again. */
function useMorePages(order: InboxOrder, filter: InboxFilter, version: number) {
  const [after, setAfter] = useState<string[]>([])
  useEffect(() => setAfter([]), [order, filter, version])
  return [after, (cursor: string) => setAfter((a) => (a.includes(cursor) ? a : [...a, cursor]))] as const
}

export function InboxPage({ selectedId }: { selectedId?: string }) {
  const [order, setOrder] = useState<InboxOrder>(() => (localStorage.getItem(ORDER_KEY) as InboxOrder | null) ?? 'DEADLINE')
  const [search, setSearch] = useState('')
  const [picks, setPicks] = useState<Picks>({})
  const text = useSettled(search.trim())
  // the server filters (a search covers every pending request, not only those loaded); rows that live events bring are matched here
  const filter = useMemo<Picks & { text?: string }>(() => ({ ...Object.fromEntries(Object.entries(picks).filter(([, v]) => v)), ...(text ? { text } : {}) }), [picks, text])
  const filtering = Object.keys(filter).length > 0
  const [{ data, fetching, error }, refetch] = useQuery({ query: InboxQuery, variables: { order, filter }, requestPolicy: 'cache-and-network' })
  const [, navigate] = useLocation()
  const now = useNow(1000)
  const [seen, markSeen] = useTabSet(SEEN_KEY)
  const [opened, markOpened] = useTabSet(OPENED_KEY)
  const decisions = useDecisions()
  const [detailVersion, setDetailVersion] = useState(0)
  const [baseVersion, setBaseVersion] = useState(0)
  const [arrived, setArrived] = useState<ReadonlySet<string>>(new Set())
  // the requests this inbox has listed: an ADDED event for another one is an arrival
  const seenIds = useRef(new Set<string>())
  // what live events said of each request since the list was last read: its row, or null once it
  // left, and the event's place in the order they came (`seq`)
  const [overlay, setOverlay] = useState<ReadonlyMap<string, { row: InboxItem | null; seq: number }>>(new Map())
  const eventSeq = useRef(0)
  // the last event before the latest read of the list was asked for: what a read supersedes
  const readAsked = useRef(0)
  const selected = useRef(selectedId)
  selected.current = selectedId
  const [{ data: countData }, refetchCount] = useQuery({ query: InboxCount, variables: { filter }, requestPolicy: 'network-only', pause: !data })
  const countTimer = useRef<ReturnType<typeof setTimeout>>(undefined)
  // a change: that one row changes in place (no reading of the whole inbox), and the count is read again, once per burst
  useSubscription({ query: InboxEvents }, (_prev, event) => {
    const { type } = event.approvalInbox
    const request = getFragmentData(RequestRowFields, event.approvalInbox.request)
    const seq = ++eventSeq.current
    setOverlay((prev) => new Map(prev).set(request.id, { row: type === 'REMOVED' ? null : request, seq }))
    if (request.id === selected.current) setDetailVersion((v) => v + 1)
    clearTimeout(countTimer.current)
    countTimer.current = setTimeout(() => refetchCount({ requestPolicy: 'network-only' }), 300)
    if (type === 'ADDED' && !seenIds.current.has(request.id)) {
      setArrived((prev) => new Set(prev).add(request.id))
      decisions.announce(`New request: ${requestTitle(request)}`)
      notifyArrival(requestTitle(request))
    }
    return event
  })
  // a fresh read of the list supersedes what events said before it was asked for, not what came
  // while it was on its way (a request added meanwhile may not be in it)
  useEffect(() => {
    setOverlay((prev) => {
      const next = new Map([...prev].filter(([, e]) => e.seq > readAsked.current))
      return next.size === prev.size ? prev : next
    })
  }, [data])
  useEffect(() => {
    readAsked.current = eventSeq.current
  }, [order, filter])
  const [more, loadMore] = useMorePages(order, filter, baseVersion)
  const [helpOpen, setHelpOpen] = useState(false)
  const searchField = useRef<HTMLInputElement>(null)
  const [notifications, setNotifications] = useState(() => (typeof Notification === 'undefined' ? 'denied' : Notification.permission))
  const [picked, setPicked] = useState<ReadonlySet<string>>(new Set())
  const [bulkReason, setBulkReason] = useState('')
  // a decision on several, shown before it is made (read, then asked)
  const reviewBulk = useBulkReview()
  const [bulkAsked, setBulkAsked] = useState<{ verb: 'approve' | 'reject'; items: BulkItem[] } | null>(null)
  const [checking, setChecking] = useState(false)
  const toggle = useCallback((id: string) => {
    setPicked((prev) => {
      const next = new Set(prev)
      if (next.has(id)) next.delete(id)
      else next.add(id)
      return next
    })
  }, [])
  // after a (re)connection, read the inbox again: events sent while the link was down are gone
  const reread = useCallback(() => {
    readAsked.current = eventSeq.current
    refetch({ requestPolicy: 'network-only' })
    setBaseVersion((v) => v + 1)
    setDetailVersion((v) => v + 1)
  }, [refetch])
  const live = useLiveConnection(reread)
  useEffect(() => {
    // and now and then anyway, as a safety net
    const timer = setInterval(reread, 60_000)
    return () => clearInterval(timer)
  }, [reread])
  const extra = useExtraPages(more, order, filter)
  const items = useMemo(() => {
    const read = [...(data?.approvalInbox.edges.map((e) => getFragmentData(RequestRowFields, e.node)) ?? []), ...extra.items]
    const live = [...overlay.values()].map((e) => e.row).filter((r): r is InboxItem => r !== null && r.status === 'PENDING' && rowMatches(r, filter))
    const all = [...read.map((r) => (overlay.has(r.id) ? overlay.get(r.id)!.row : r)).filter((r): r is InboxItem => !!r && r.status === 'PENDING'), ...live]
    const unique = all.filter((r, i) => all.findIndex((x) => x.id === r.id) === i).sort(ORDER_BY[order])
    // a decision waiting out its undo window has left the inbox (undo brings it back)
    return unique.filter((r) => !decisions.waiting.has(r.id))
  }, [data, extra.items, overlay, order, decisions.waiting, filter])
  useEffect(() => {
    for (const r of items) seenIds.current.add(r.id)
  }, [items])
  const options = useFilterOptions()
  // a reviewer who may not list the rules chooses among the rules of the requests shown
  const ruleChoices = useMemo(() => {
    if (options.rules) return options.rules
    const rules = new Map<string, { id: string; name: string }>()
    for (const r of items) if (r.rule) rules.set(r.rule.id, r.rule)
    return [...rules.values()].sort((a, b) => a.name.localeCompare(b.name))
  }, [options.rules, items])
  const lastPage = extra.pageInfo ?? data?.approvalInbox.pageInfo
  const counted = countData ?? data
  const total = counted === undefined ? null : Math.max(0, counted.approvalInboxCount - decisions.waiting.size)
  const matching = counted === undefined ? null : Math.max(0, counted.matching - decisions.waiting.size)
  // a decision taken back: open that request again
  useEffect(() => decisions.onUndo((requestId) => navigate(`/inbox/${encodeURIComponent(requestId)}`)), [decisions, navigate])
  // the open request stays in view in the list
  useEffect(() => {
    if (!selectedId) return
    document.querySelector(`[data-request-id="${CSS.escape(selectedId)}"]`)?.scrollIntoView({ block: 'nearest' })
    document.querySelector('.inbox-split > .detail')?.scrollTo({ top: 0 })
  }, [selectedId])
  // the tab's count is of the whole inbox, whatever the filter shows
  const unread = filtering ? (total ?? 0) : items.filter((r) => !seen.has(r.id)).length + Math.max(0, (total ?? 0) - items.length)
  useEffect(() => {
    document.title = titleWithCount(unread)
  }, [unread])
  useEffect(() => {
    if (selectedId) markSeen(selectedId)
  }, [selectedId, markSeen])

  // the request shown after a decision: the one after the decided one, else the one before
  const ids = useRef<string[]>([])
  ids.current = items.map((r) => r.id)
  const openNext = useCallback(
    (decidedId: string) => {
      const at = ids.current.indexOf(decidedId)
      const rest = ids.current.filter((id) => id !== decidedId)
      const next = rest[Math.min(Math.max(at, 0), rest.length - 1)]
      navigate(next ? `/inbox/${encodeURIComponent(next)}` : '/inbox')
    },
    [navigate],
  )
  useShortcuts(
    useCallback(
      (key: string, event: KeyboardEvent) => {
        if (key === 'Escape') {
          if (!helpOpen) return
          // this Escape is the help's: the form open under it (lib/hooks.ts formOpen) stays
          event.preventDefault()
          return setHelpOpen(false)
        }
        if (key === '?' && (helpOpen || !overlayOpen())) return setHelpOpen((open) => !open)
        // what is open over the inbox (the keys' help, a confirmation, a menu) has the keys
        if (overlayOpen()) return
        if (key === 'x' && selectedId) return toggle(selectedId)
        if (key === '/') {
          event.preventDefault() // focus the search, without typing the slash into it
          return searchField.current?.focus()
        }
        if (key !== 'j' && key !== 'k') return
        // a form being filled in on the open request (a reason, an edit, a rule) would be thrown away: Escape leaves it first
        if (formOpen()) return
        const list = ids.current
        if (list.length === 0) return
        const at = selectedId ? list.indexOf(selectedId) : -1
        const next = key === 'j' ? Math.min(at + 1, list.length - 1) : Math.max(at - 1, 0)
        navigate(`/inbox/${encodeURIComponent(list[next]!)}`)
      },
      [selectedId, navigate, toggle, helpOpen],
    ),
  )
  // requests picked and then decided elsewhere (or by this bulk decision) leave the selection
  const pickedNow = items.filter((r) => picked.has(r.id))
  // first what would be decided, the unopened and risky ones named; the decision once confirmed
  const askMany = async (verb: 'approve' | 'reject') => {
    setChecking(true)
    try {
      setBulkAsked({ verb, items: await reviewBulk(pickedNow.map((r) => ({ id: r.id, title: requestTitle(r) })), opened) })
    } finally {
      setChecking(false)
    }
  }
  const decideMany = (verb: 'approve' | 'reject', asked: BulkItem[]) => {
    // those decided elsewhere while the reviewer read the list are left out
    const listed = new Set(items.map((r) => r.id))
    const ids = asked.map((i) => i.id).filter((id) => listed.has(id))
    const [firstId, ...rest] = ids
    setBulkAsked(null)
    if (!firstId) return
    decisions.decide({ requestId: firstId, more: rest, verb, comment: bulkReason.trim() || null, title: `${ids.length} requests` })
    setPicked(new Set())
    setBulkReason('')
    if (selectedId && ids.includes(selectedId)) openNext(selectedId)
  }

  return (
    <div className={`split inbox-split ${selectedId ? 'has-detail' : ''}`}>
      <section className="list" aria-label="Inbox">
        <h1>
          Inbox {total !== null && total > 0 && <span className="count" aria-label={`${total} pending`}>{total}</span>}
          <span className={`live ${live ? 'up' : ''}`} title={live ? 'New requests appear as they arrive' : 'Reconnecting…'}>
            {live ? 'Live' : 'Offline'}
          </span>
        </h1>
        <input
          ref={searchField}
          type="search"
          className="search"
          aria-label="Search the inbox"
          placeholder="Search: summary, action, agent, person, rule ( / )"
          value={search}
          onChange={(e) => setSearch(e.target.value)}
          onKeyDown={(e) => e.key === 'Escape' && (e.currentTarget.blur(), setSearch(''))}
        />
        <details className="inbox-filters" open={Object.values(picks).some(Boolean) || undefined}>
          <summary>Filters{Object.values(picks).some(Boolean) && ' (on)'}</summary>
          <div className="filters">
            <ActionFilter value={picks.actionType ?? ''} onChange={(v) => setPicks((p) => ({ ...p, actionType: v }))} actionTypes={options.actionTypes} />
            <PrincipalFilter label="Agent" value={picks.requesterId ?? ''} onChange={(v) => setPicks((p) => ({ ...p, requesterId: v }))} principals={options.agents} />
            <PrincipalFilter label="For" value={picks.onBehalfOfId ?? ''} onChange={(v) => setPicks((p) => ({ ...p, onBehalfOfId: v }))} principals={options.users} />
            <RuleFilter value={picks.ruleId ?? ''} onChange={(v) => setPicks((p) => ({ ...p, ruleId: v }))} rules={ruleChoices} />
          </div>
        </details>
        {filtering && matching !== null && (
          <p className="filtered" role="status">
            {matching} of {total} match.{' '}
            <button
              type="button"
              className="link"
              onClick={() => {
                setSearch('')
                setPicks({})
              }}
            >
              Show all
            </button>
          </p>
        )}
        <label className="order">
          Sort
          <select
            value={order}
            onChange={(e) => {
              localStorage.setItem(ORDER_KEY, e.target.value)
              setOrder(e.target.value as InboxOrder)
            }}
          >
            {ORDERS.map((o) => (
              <option key={o.value} value={o.value}>
                {o.label}
              </option>
            ))}
          </select>
        </label>
        {pickedNow.length > 0 && (
          <div className="bulk" role="group" aria-label="Selected requests">
            <span>{pickedNow.length} selected</span>
            <input aria-label="Comment for all (optional)" placeholder="Comment for all (optional)" value={bulkReason} onChange={(e) => setBulkReason(e.target.value)} />
            <button type="button" className="approve" disabled={checking} onClick={() => void askMany('approve')}>
              Approve {pickedNow.length}
            </button>
            <button type="button" className="reject" disabled={checking} onClick={() => void askMany('reject')}>
              Reject {pickedNow.length}
            </button>
            {checking && <span role="status">Reading them…</span>}
            <button type="button" className="link" onClick={() => setPicked(new Set())}>
              Clear
            </button>
          </div>
        )}
        {bulkAsked && (
          <BulkDecisionDialog
            verb={bulkAsked.verb}
            items={bulkAsked.items}
            onConfirm={() => decideMany(bulkAsked.verb, bulkAsked.items)}
            onCancel={() => setBulkAsked(null)}
          />
        )}
        {error && <p className="state error">Could not load the inbox: {errorMessage(error)}</p>}
        {fetching && !data && <p className="state">Loading…</p>}
        {data && items.length === 0 && (
          <p className="state empty">{filtering ? 'No pending request matches.' : 'Nothing waits for you. New requests appear here as they arrive.'}</p>
        )}
        <ol className="requests">
          {items.map((r) => (
            <InboxListItem
              key={r.id}
              row={r}
              now={now}
              selected={r.id === selectedId}
              unread={!seen.has(r.id)}
              arrived={arrived.has(r.id)}
              picked={picked.has(r.id)}
              onPick={toggle}
            />
          ))}
        </ol>
        {lastPage?.hasNextPage && (
          <button type="button" className="more" disabled={extra.fetching} onClick={() => lastPage.endCursor && loadMore(lastPage.endCursor)}>
            {extra.fetching ? 'Loading…' : `Show more (${Math.max(0, ((filtering ? matching : total) ?? 0) - items.length)} not shown)`}
          </button>
        )}
        <p className="hint">
          Keys: j / k to move, x to select, a to approve, r to reject (asks for a reason), Esc to leave a form, / to search, ? for all keys; every decision can
          be undone for {UNDO_SECONDS} seconds.
        </p>
        {notifications === 'default' && (
          <button type="button" className="link" onClick={() => void Notification.requestPermission().then(setNotifications)}>
            Tell me of new requests when this tab is in the background
          </button>
        )}
        {helpOpen && (
          <div className="shortcuts" role="dialog" aria-label="Keyboard shortcuts">
            <h2>Keyboard shortcuts</h2>
            <dl>
              <dt>j / k</dt>
              <dd>next / previous request (not while a reason, an edit or a rule is being written: Esc leaves it first)</dd>
              <dt>a</dt>
              <dd>approve the open request (after it has been on screen a moment; not while a form is open)</dd>
              <dt>r</dt>
              <dd>reject it: asks for a reason first</dd>
              <dt>Esc</dt>
              <dd>leave the form being filled in: the reason, the edit, the rule of “allow similar”</dd>
              <dt>Ctrl+Enter</dt>
              <dd>in that form: send it, as its button says (Enter alone sends nothing)</dd>
              <dt>x</dt>
              <dd>select it, to decide several together</dd>
              <dt>/</dt>
              <dd>search</dd>
              <dt>?</dt>
              <dd>show or hide this list</dd>
            </dl>
            <p>Every decision can be undone for {UNDO_SECONDS} seconds.</p>
            <button type="button" onClick={() => setHelpOpen(false)}>
              Close
            </button>
          </div>
        )}
      </section>
      <section className="detail" aria-label="Request">
        {selectedId ? (
          <RequestDetail key={selectedId} id={selectedId} version={detailVersion} onDecided={openNext} onOpened={markOpened} shortcuts />
        ) : (
          <p className="state empty">{items.length ? 'Select a request to see everything you need to decide it.' : 'Your inbox is empty.'}</p>
        )}
      </section>
    </div>
  )
}

const UNDO_SECONDS = UNDO_MS / 1000

/** A desktop notification of a new request, when the tab is hidden and the user allowed them. */
function notifyArrival(title: string) {
  if (typeof Notification === 'undefined' || Notification.permission !== 'granted' || document.visibilityState !== 'hidden') return
  new Notification('New approval request', { body: title, tag: 'approvals-inbox' })
}

const byCreated = (a: InboxItem, b: InboxItem) => a.createdAt.localeCompare(b.createdAt) || a.id.localeCompare(b.id)
/** The server's orders (approvalInbox's `order`), for rows that live events put in the list. */
const ORDER_BY: Record<InboxOrder, (a: InboxItem, b: InboxItem) => number> = {
  OLDEST: byCreated,
  NEWEST: (a, b) => byCreated(b, a),
  DEADLINE: (a, b) => (a.expiresAt && b.expiresAt ? a.expiresAt.localeCompare(b.expiresAt) : a.expiresAt ? -1 : b.expiresAt ? 1 : 0) || byCreated(a, b),
}

/** The pages after the first, in order, loaded as the user asks for them. */
function useExtraPages(cursors: string[], order: InboxOrder, filter: InboxFilter) {
  const last = cursors.at(-1)
  const [{ data, fetching }] = useQuery({ query: InboxQuery, variables: { after: last, order, filter }, pause: !last, requestPolicy: 'network-only' })
  const [pages, setPages] = useState<{ cursor: string; items: InboxItem[] }[]>([])
  useEffect(() => {
    if (cursors.length === 0) setPages([])
  }, [cursors])
  useEffect(() => {
    if (!last || !data) return
    setPages((prev) => (prev.some((p) => p.cursor === last) ? prev : [...prev, { cursor: last, items: data.approvalInbox.edges.map((e) => getFragmentData(RequestRowFields, e.node)) }]))
  }, [data, last])
  return {
    items: pages.filter((p) => cursors.includes(p.cursor)).flatMap((p) => p.items),
    pageInfo: last && data ? data.approvalInbox.pageInfo : undefined,
    fetching,
  }
}

type InboxItem = RequestRowData
/** The inbox's filters, besides its search. */
type Picks = { actionType?: string; requesterId?: string; onBehalfOfId?: string; ruleId?: string }
