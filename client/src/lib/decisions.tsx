// Decisions with an undo window, as Gmail's "undo send": a decision waits UNDO_MS before anything
// is sent, with a toast that can take it back; only then does the mutation go out. A decision
// still waiting when the page goes away is sent then (a keepalive request), so none is lost.
// Other changes that let actions through without a person's say (a rule switched off) wait out
// the same window, the same way (`hold`).
// Decisions and arrivals are also announced to screen readers through one live region.
import { createContext, useCallback, useContext, useEffect, useMemo, useRef, useState, type ReactNode } from 'react'
import { useClient } from 'urql'
import { graphql } from '../gql'
import { errorMessage } from './format'

import { UNDO_MS } from './timing'

export { UNDO_MS }

const Approve = graphql(`
  mutation ApproveRequest($id: ID!, $comment: String, $params: JSON) {
    approveRequest(id: $id, comment: $comment, params: $params) {
      id
      status
    }
  }
`)

const Reject = graphql(`
  mutation RejectRequest($id: ID!, $comment: String) {
    rejectRequest(id: $id, comment: $comment) {
      id
      status
    }
  }
`)

const DecideMany = graphql(`
  mutation DecideRequests($ids: [ID!]!, $decision: Decision!, $comment: String) {
    decideRequests(ids: $ids, decision: $decision, comment: $comment) {
      id
      code
      message
    }
  }
`)

export interface PendingDecision {
  requestId: string
  verb: 'approve' | 'reject'
  comment: string | null
  /** What the toast calls the request. */
  title: string
  /** More requests decided alike, in one call (decideRequests); requestId is the first of them. */
  more?: string[]
  /** An approval of an edited version: the params to run instead of the requested ones. */
  params?: unknown
}

/**
 * A change other than a decision, held for the undo window as decisions are: sent once the window
 * has passed, unless taken back (the toast's Undo, or `undo(key)`).
 */
export interface HeldChange {
  /** What the change is of (one held change per key): `rule:<id>`. */
  key: string
  /** What the toast says. */
  text: string
  /** What is said (to screen readers) once it is taken back. */
  undone: string
  /** Sends the change once the window has passed; resolves with what went wrong, or null. */
  send(): Promise<string | null>
  /** The same change as a GraphQL operation, sent (keepalive) if the page goes away during the window. */
  onLeave: { query: string; variables: Record<string, unknown> }
}

interface Toast {
  key: number
  text: string
  /** Set while the decision can be taken back. */
  undo?: () => void
  tone?: 'error'
}

interface Decisions {
  /** Queues a decision: sent after UNDO_MS unless taken back. */
  decide(decision: PendingDecision): void
  /** The requests whose decision waits to be sent (the inbox hides them meanwhile). */
  waiting: ReadonlySet<string>
  /** Says `text` to screen readers (politely). */
  announce(text: string): void
  /** Called when a decision was taken back: the request is shown again. */
  onUndo(listener: (requestId: string) => void): () => void
  /** Holds another change for the undo window (see HeldChange). */
  hold(change: HeldChange): void
  /** The keys of the changes held. */
  held: ReadonlySet<string>
  /** Takes back the change held under `key`, if there is one. */
  undo(key: string): void
}

const DecisionsContext = createContext<Decisions | null>(null)

export function useDecisions(): Decisions {
  const decisions = useContext(DecisionsContext)
  if (!decisions) throw new Error('useDecisions outside <DecisionsProvider>')
  return decisions
}

const past = { approve: 'Approved', reject: 'Rejected' }

/** Holds decisions during their undo window, shows their toasts, and owns the live region. */
export function DecisionsProvider({ token, children }: { token: string; children: ReactNode }) {
  const client = useClient()
  const [toasts, setToasts] = useState<Toast[]>([])
  const [waiting, setWaiting] = useState<ReadonlySet<string>>(new Set())
  const [held, setHeld] = useState<ReadonlySet<string>>(new Set())
  const [spoken, setSpoken] = useState('')
  // what waits out its window, by request ID (a decision) or by key (another change): how to send
  // it from a page going away, and how to take it back
  const timers = useRef(new Map<string, { timer: ReturnType<typeof setTimeout>; leave: () => void; undo: () => void }>())
  const undoListeners = useRef(new Set<(id: string) => void>())
  const nextKey = useRef(0)

  const announce = useCallback((text: string) => setSpoken(text), [])
  const dropToast = useCallback((key: number) => setToasts((all) => all.filter((t) => t.key !== key)), [])
  const setWaitingFor = useCallback((id: string, on: boolean) => {
    setWaiting((prev) => {
      const next = new Set(prev)
      if (on) next.add(id)
      else next.delete(id)
      return next
    })
  }, [])

  const send = useCallback(
    async (decision: PendingDecision, toastKey: number) => {
      timers.current.delete(decision.requestId)
      dropToast(toastKey)
      const all = [decision.requestId, ...(decision.more ?? [])]
      if (decision.more) {
        const result = await client
          .mutation(DecideMany, { ids: all, decision: decision.verb === 'approve' ? 'APPROVE' : 'REJECT', comment: decision.comment }, { additionalTypenames: ['ApprovalRequest'] })
          .toPromise()
        all.forEach((id) => setWaitingFor(id, false))
        const refused = result.data?.decideRequests.filter((r) => r.code) ?? []
        if (result.error || refused.length) {
          const key = nextKey.current++
          const text = result.error
            ? `Could not decide ${all.length} requests: ${errorMessage(result.error)}`
            : `${refused.length} of ${all.length} could not be decided: ${refused[0]!.message}`
          setToasts((list) => [...list, { key, text, tone: 'error' }])
          announce(text)
        }
        return
      }
      const variables = { id: decision.requestId, comment: decision.comment }
      const result = await (decision.verb === 'approve'
        ? client.mutation(Approve, decision.params === undefined ? variables : { ...variables, params: decision.params }, { additionalTypenames: ['ApprovalRequest'] })
        : client.mutation(Reject, variables, { additionalTypenames: ['ApprovalRequest'] })
      ).toPromise()
      setWaitingFor(decision.requestId, false)
      if (result.error) {
        const key = nextKey.current++
        const text = `Could not ${decision.verb} “${decision.title}”: ${errorMessage(result.error)}`
        setToasts((all) => [...all, { key, text, tone: 'error' }])
        announce(text)
        undoListeners.current.forEach((l) => l(decision.requestId))
      }
    },
    [client, dropToast, setWaitingFor, announce],
  )

  const decide = useCallback(
    (decision: PendingDecision) => {
      if (timers.current.has(decision.requestId)) return // one decision per request
      const key = nextKey.current++
      const text = `${past[decision.verb]} “${decision.title}”`
      const all = [decision.requestId, ...(decision.more ?? [])]
      const timer = setTimeout(() => void send(decision, key), UNDO_MS)
      const undo = () => {
        const entry = timers.current.get(decision.requestId)
        if (!entry) return
        clearTimeout(entry.timer)
        timers.current.delete(decision.requestId)
        all.forEach((id) => setWaitingFor(id, false))
        dropToast(key)
        announce(`Undone: “${decision.title}” is back in your inbox`)
        undoListeners.current.forEach((l) => l(decision.requestId))
      }
      timers.current.set(decision.requestId, { timer, leave: () => sendDecisionOnLeave(decision, token), undo })
      all.forEach((id) => setWaitingFor(id, true))
      setToasts((all) => [...all, { key, text, undo }])
      announce(`${text}. Undo within ${UNDO_MS / 1000} seconds.`)
    },
    [send, setWaitingFor, dropToast, announce, token],
  )

  const setHeldFor = useCallback((key: string, on: boolean) => {
    setHeld((prev) => {
      const next = new Set(prev)
      if (on) next.add(key)
      else next.delete(key)
      return next
    })
  }, [])

  const hold = useCallback(
    (change: HeldChange) => {
      if (timers.current.has(change.key)) return
      const toastKey = nextKey.current++
      const timer = setTimeout(() => {
        timers.current.delete(change.key)
        dropToast(toastKey)
        void change
          .send()
          .catch((e: unknown) => (e instanceof Error ? e.message : String(e)))
          .then((problem) => {
            setHeldFor(change.key, false)
            if (!problem) return
            const key = nextKey.current++
            setToasts((all) => [...all, { key, text: problem, tone: 'error' }])
            announce(problem)
          })
      }, UNDO_MS)
      const undo = () => {
        const entry = timers.current.get(change.key)
        if (!entry) return
        clearTimeout(entry.timer)
        timers.current.delete(change.key)
        setHeldFor(change.key, false)
        dropToast(toastKey)
        announce(change.undone)
      }
      timers.current.set(change.key, { timer, leave: () => keepalive(change.onLeave, token), undo })
      setHeldFor(change.key, true)
      setToasts((all) => [...all, { key: toastKey, text: change.text, undo }])
      announce(`${change.text} Undo within ${UNDO_MS / 1000} seconds.`)
    },
    [dropToast, setHeldFor, announce, token],
  )

  const undo = useCallback((key: string) => timers.current.get(key)?.undo(), [])

  // the page goes away: send what waits now, in requests that outlive the page
  useEffect(() => {
    const flush = () => {
      for (const { timer, leave } of timers.current.values()) {
        clearTimeout(timer)
        leave()
      }
      timers.current.clear()
    }
    window.addEventListener('pagehide', flush)
    return () => window.removeEventListener('pagehide', flush)
  }, [])

  const value = useMemo<Decisions>(
    () => ({
      decide,
      waiting,
      announce,
      onUndo: (listener) => {
        undoListeners.current.add(listener)
        return () => undoListeners.current.delete(listener)
      },
      hold,
      held,
      undo,
    }),
    [decide, waiting, announce, hold, held, undo],
  )

  return (
    <DecisionsContext.Provider value={value}>
      {children}
      <div className="toasts" role="region" aria-label="Decisions">
        {toasts.map((t) => (
          <div key={t.key} className={`toast ${t.tone ?? ''}`} role={t.tone === 'error' ? 'alert' : undefined}>
            <span>{t.text}</span>
            {t.undo ? (
              <button type="button" onClick={t.undo}>
                Undo
              </button>
            ) : (
              <button type="button" className="link" aria-label="Dismiss" onClick={() => dropToast(t.key)}>
                ×
              </button>
            )}
          </div>
        ))}
      </div>
      <div className="sr-only" aria-live="polite" role="status" data-testid="announcer">
        {spoken}
      </div>
    </DecisionsContext.Provider>
  )
}

/** Sends an operation in a request that outlives the page (the page is going away). */
function keepalive(operation: { query: string; variables: Record<string, unknown> }, token: string) {
  void fetch('/graphql', {
    method: 'POST',
    keepalive: true,
    headers: { 'content-type': 'application/json', authorization: `Bearer ${token}` },
    body: JSON.stringify(operation),
  })
}

/** A decision still in its window, sent as the page goes away. */
function sendDecisionOnLeave(decision: PendingDecision, token: string) {
  if (decision.params !== undefined) {
    return keepalive(
      {
        query: 'mutation($id: ID!, $c: String, $p: JSON) { approveRequest(id: $id, comment: $c, params: $p) { id } }',
        variables: { id: decision.requestId, c: decision.comment, p: decision.params },
      },
      token,
    )
  }
  keepalive(
    {
      query: `mutation($ids: [ID!]!, $d: Decision!, $c: String) { decideRequests(ids: $ids, decision: $d, comment: $c) { id } }`,
      variables: { ids: [decision.requestId, ...(decision.more ?? [])], d: decision.verb === 'approve' ? 'APPROVE' : 'REJECT', c: decision.comment },
    },
    token,
  )
}
