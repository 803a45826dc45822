// The inbox fan-out of one instance. A request change is published once (`requestChanged`), not
// once per reviewer; each instance has one listener for it, loads the request once, and decides
// in memory what each of its inbox subscribers is told: ADDED, UPDATED, REMOVED or nothing.
//
// Before this, every subscriber concerned ran its own visibility check and loaded the request
// for its own payload: two queries (and the payload's relations) per subscriber per event, which
// took 1.3 s to reach 1,000 inboxes. Now the instance runs one load per event, selecting the
// facts the decision needs together with what most of its subscribers select; the subscribers
// that select something else share one load per distinct selection (see `ChangeLoad`). An
// instance none of whose subscribers reviews or reviewed the request loads nothing: the event
// names those principals (see PubSubEvents.requestChanged).
import type { Viewer } from '../auth/viewer.js'
import type { Prisma, PrismaClient } from '../db.js'
import type { ApprovalRequest } from '../generated/prisma/client.js'
import type { Logger } from '../logger.js'
import type { InboxEventType, PubSub } from '../pubsub.js'

/** A Prisma query for a request, as Pothos plans it from a GraphQL selection. */
export interface RequestQuery {
  select?: Prisma.ApprovalRequestSelect
  include?: Prisma.ApprovalRequestInclude
}

const FACT_REVIEWERS = { select: { userId: true, agentId: true, active: true } } as const

/** What decides who is told of a change, and who may see the request: see `inboxChange` and `isVisibleTo`. */
export const REQUEST_FACTS = {
  id: true,
  status: true,
  expiresAt: true,
  requesterUserId: true,
  requesterAgentId: true,
  onBehalfOfId: true,
  reviewers: FACT_REVIEWERS,
} as const satisfies Prisma.ApprovalRequestSelect

export type RequestFacts = Prisma.ApprovalRequestGetPayload<{ select: typeof REQUEST_FACTS }>

/** Whether the viewer reviews (`active`) or reviewed and was replaced (`replaced`) a request. */
interface ReviewerState {
  active: boolean
  replaced: boolean
}

/** A request's reviewers by principal (`user:<id>`, `agent:<id>`): built once per change, read once per subscriber. */
export type ReviewerIndex = ReadonlyMap<string, ReviewerState>

const principalKey = (kind: 'user' | 'agent', id: string) => `${kind}:${id}`

/** Indexes a request's reviewer rows by principal, so that each subscriber's lookup is O(1). */
export function indexReviewers(facts: Pick<RequestFacts, 'reviewers'>): ReviewerIndex {
  const index = new Map<string, ReviewerState>()
  for (const r of facts.reviewers) {
    const key = r.userId ? principalKey('user', r.userId) : r.agentId ? principalKey('agent', r.agentId) : null
    if (!key) continue
    const state = index.get(key) ?? { active: false, replaced: false }
    if (r.active) state.active = true
    else state.replaced = true
    index.set(key, state)
  }
  return index
}

/**
 * In memory, what `visibleTo(viewer)` (approvals/requests.ts) decides in SQL: approval:view sees
 * every request; others see their own, those made on their behalf (users), and those they review
 * or reviewed. Keep the two in step: server/test/inbox-visibility.test.ts checks that they agree.
 */
export function isVisibleTo(viewer: Viewer, facts: RequestFacts, index: ReviewerIndex = indexReviewers(facts)): boolean {
  if (viewer.permissions.has('approval:view')) return true
  if (viewer.kind === 'user' ? facts.requesterUserId === viewer.id : facts.requesterAgentId === viewer.id) return true
  if (viewer.kind === 'user' && facts.onBehalfOfId === viewer.id) return true
  return index.has(principalKey(viewer.kind, viewer.id))
}

/**
 * In memory, what `decidableBy(viewer, now)` (approvals/requests.ts) decides in SQL: pending, the
 * viewer an active reviewer, and the deadline not passed. Checked against it in the same test.
 */
export function isDecidableBy(viewer: Viewer, facts: RequestFacts, now: Date, index: ReviewerIndex = indexReviewers(facts)): boolean {
  return (
    facts.status === 'PENDING' &&
    !!index.get(principalKey(viewer.kind, viewer.id))?.active &&
    (facts.expiresAt === null || facts.expiresAt > now)
  )
}

/**
 * What the viewer's inbox is told of a change to this request, or null for nothing. While the
 * request is pending, an active reviewer gets ADDED, or UPDATED when it reviewed it before too
 * (it was replaced and assigned again), and a replaced one gets REMOVED; once it is final, its
 * active reviewers get REMOVED. Nobody else hears of it, and nothing the viewer may not see is sent.
 */
export function inboxChange(viewer: Viewer, facts: RequestFacts, index: ReviewerIndex = indexReviewers(facts)): InboxEventType | null {
  const state = index.get(principalKey(viewer.kind, viewer.id))
  if (!state) return null
  let type: InboxEventType | null
  if (facts.status === 'PENDING') type = state.active ? (state.replaced ? 'UPDATED' : 'ADDED') : 'REMOVED'
  else type = state.active ? 'REMOVED' : null
  return type && isVisibleTo(viewer, facts, index) ? type : null
}

/** JSON with sorted keys: equal queries give equal keys whatever order their keys were built in. */
function stableKey(value: unknown): string {
  if (Array.isArray(value)) return `[${value.map(stableKey).join(',')}]`
  if (value && typeof value === 'object') {
    const entries = Object.entries(value as Record<string, unknown>).filter(([, v]) => v !== undefined)
    return `{${entries.sort(([a], [b]) => (a < b ? -1 : 1)).map(([k, v]) => `${JSON.stringify(k)}:${stableKey(v)}`).join(',')}}`
  }
  return JSON.stringify(value ?? null)
}

/** The key under which loads of the same selection are shared. */
export const queryKey = (query: RequestQuery): string => stableKey(query)

/**
 * The loads of one request for one change, shared by every subscriber told of it: the first
 * subscriber with a given selection loads it, the others wait for the same row. The rows are
 * read-only to the resolvers (Pothos keeps what it records about a row per request context), so
 * one row can serve every subscriber's execution.
 */
export class ChangeLoad {
  // typed as the model's row, as Pothos expects of a prismaField; each row holds what its key selects
  private readonly rows = new Map<string, Promise<ApprovalRequest>>()

  constructor(
    private readonly prisma: PrismaClient,
    readonly requestId: string,
  ) {}

  /** Gives the row loaded for `key` (with at least what that selection asks) to those who select it. */
  seed(key: string, row: object): void {
    this.rows.set(key, Promise.resolve(row as ApprovalRequest))
  }

  /** The request as `query` selects it, loaded once for this change whoever asks. */
  load = (query: RequestQuery): Promise<ApprovalRequest> => {
    const key = queryKey(query)
    let row = this.rows.get(key)
    if (!row) {
      row = this.prisma.approvalRequest.findUniqueOrThrow({ ...query, where: { id: this.requestId } } as Prisma.ApprovalRequestFindUniqueOrThrowArgs) as Promise<ApprovalRequest>
      this.rows.set(key, row)
    }
    return row
  }
}

/** What the hub hands each subscriber's stream for a change it is told of. */
export interface InboxEvent {
  requestId: string
  type: InboxEventType
  /** The change's shared loads; absent for the events a resync makes up (the stream's own). */
  load?: ChangeLoad['load']
}

const RANGE_ARGS = ['where', 'take', 'skip', 'cursor', 'distinct'] as const

/**
 * The reviewers part of a selection widened to carry what the decision needs, or null when it
 * cannot be (it filters or pages the reviewers: the facts need all of them).
 */
function reviewersWithFacts(given: unknown): unknown {
  if (given === undefined || given === false) return FACT_REVIEWERS
  if (given === true) return true
  if (typeof given !== 'object' || given === null) return null
  const args = given as Record<string, unknown>
  if (RANGE_ARGS.some((k) => args[k] !== undefined)) return null
  const select = args.select as Record<string, unknown> | undefined
  if (!select) return given // include form: every column
  return { ...args, select: { ...select, userId: true, agentId: true, active: true } }
}

/**
 * `query` widened to load the facts too, so that one statement serves the decision and the
 * payload; null when it cannot be (the facts are then loaded on their own). Widening only adds
 * columns and relations, so the row still answers `query`.
 */
export function withFacts(query: RequestQuery): RequestQuery | null {
  if (query.select) {
    const reviewers = reviewersWithFacts(query.select.reviewers)
    if (reviewers === null) return null
    const { reviewers: _facts, ...columns } = REQUEST_FACTS
    return { ...query, select: { ...query.select, ...columns, reviewers } as Prisma.ApprovalRequestSelect }
  }
  const include = query.include ?? {}
  const reviewers = reviewersWithFacts(include.reviewers)
  if (reviewers === null) return null
  return { ...query, include: { ...include, reviewers } as Prisma.ApprovalRequestInclude }
}

/** A selection of the request that members make, and how many make it. */
interface Selection {
  key: string
  query: RequestQuery
  count: number
}

/** One inbox subscriber, as the hub knows it. */
interface Member {
  viewer: Viewer
  deliver: (event: InboxEvent) => void
}

export interface InboxMembership {
  /** Resolves once the hub listens for changes (through Redis: once Redis acknowledged it). */
  ready: Promise<void>
  /** Ends the membership; the hub stops listening when its last member leaves. */
  leave(): void
}

export interface InboxHub {
  /**
   * Adds an inbox subscriber: `deliver` is called with each change it is told of, in the order
   * of the changes to each request. `selection` is what it selects of the request, when known:
   * the hub loads the most common selection with the facts, in one statement.
   */
  join(viewer: Viewer, selection: RequestQuery | null, deliver: (event: InboxEvent) => void): InboxMembership
  /** The number of members (tests and diagnostics). */
  size(): number
}

/**
 * The instance's inbox hub. It listens for `requestChanged` only while it has members, so an
 * instance without inbox subscribers neither receives nor loads anything for them.
 */
export function createInboxHub(options: { prisma: PrismaClient; pubsub: PubSub; log: Logger }): InboxHub {
  const { prisma, pubsub, log } = options
  const members = new Set<Member>()
  // members per principal id: a change that names its reviewers is skipped when none of them is here
  const principals = new Map<string, number>()
  // how many members select each selection, to load the most common one with the facts
  const selections = new Map<string, Selection>()
  // the change being handled per request: the next one for the same request waits for it, so
  // that each subscriber hears of one request's changes in order (later loads see later states)
  const inFlight = new Map<string, Promise<void>>()
  let listener: { iterator: AsyncIterator<{ requestId: string; principals?: string[] }>; ready: Promise<void> } | null = null

  function mostCommonSelection(): Selection | null {
    let best: Selection | null = null
    for (const s of selections.values()) if (!best || s.count > best.count) best = s
    return best
  }

  async function fanOut(requestId: string): Promise<void> {
    if (members.size === 0) return
    const change = new ChangeLoad(prisma, requestId)
    const common = mostCommonSelection()
    const widened = common && withFacts(common.query)
    let facts: RequestFacts | null
    if (widened) {
      const row = await prisma.approvalRequest.findUnique({ ...widened, where: { id: requestId } } as Prisma.ApprovalRequestFindUniqueArgs)
      if (row) change.seed(common.key, row)
      facts = row as unknown as RequestFacts | null
    } else {
      facts = await prisma.approvalRequest.findUnique({ where: { id: requestId }, select: REQUEST_FACTS })
    }
    if (!facts) return
    const index = indexReviewers(facts)
    for (const member of members) {
      const type = inboxChange(member.viewer, facts, index)
      if (type) member.deliver({ requestId, type, load: change.load })
    }
  }

  function changed({ requestId, principals: concerned }: { requestId: string; principals?: string[] }) {
    if (members.size === 0) return
    if (concerned && !concerned.some((id) => principals.has(id))) return
    const handled = (inFlight.get(requestId) ?? Promise.resolve())
      .then(() => fanOut(requestId))
      // the change is committed: a subscriber that missed it sees the request's state on its next change or resync
      .catch((err) => log.warn({ err, requestId }, 'could not tell the inboxes of a request change'))
    inFlight.set(requestId, handled)
    void handled.then(() => {
      if (inFlight.get(requestId) === handled) inFlight.delete(requestId)
    })
  }

  function listen(): Promise<void> {
    if (listener) return listener.ready
    const iterator = pubsub.subscribe('requestChanged')[Symbol.asyncIterator]()
    // the first next() is what registers the listener (and, through Redis, sends SUBSCRIBE)
    let next = iterator.next()
    listener = { iterator, ready: pubsub.listening('requestChanged') }
    void (async () => {
      for (;;) {
        const event = await next
        if (event.done) return
        changed(event.value)
        next = iterator.next()
      }
    })().catch((err) => log.error({ err }, 'the inbox hub stopped listening'))
    return listener.ready
  }

  function unlisten() {
    const current = listener
    listener = null
    void current?.iterator.return?.()
  }

  return {
    join(viewer, selection, deliver) {
      const member: Member = { viewer, deliver }
      members.add(member)
      principals.set(viewer.id, (principals.get(viewer.id) ?? 0) + 1)
      // the members with one selection share its entry (and its key: a member keeps no string of its own)
      let shared: Selection | null = null
      if (selection) {
        const key = queryKey(selection)
        shared = selections.get(key) ?? { key, query: selection, count: 0 }
        shared.count++
        selections.set(key, shared)
      }
      const ready = listen()
      let left = false
      return {
        ready,
        leave() {
          if (left) return
          left = true
          members.delete(member)
          const count = principals.get(viewer.id)! - 1
          if (count === 0) principals.delete(viewer.id)
          else principals.set(viewer.id, count)
          if (shared && --shared.count === 0) selections.delete(shared.key)
          if (members.size === 0) unlisten()
        },
      }
    },
    size: () => members.size,
  }
}
