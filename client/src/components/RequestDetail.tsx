import { useCallback, useEffect, useRef, useState, type KeyboardEvent as ReactKeyboardEvent } from 'react'
import { Link } from 'wouter'
import { useQuery } from 'urql'
import { getFragmentData, graphql, type FragmentType } from '../gql'
import { useSession } from '../lib/auth'
import { useDecisions } from '../lib/decisions'
import { channelLabel, errorMessage, eventAttempt, eventLabel, formatDateTime, humanize, timeLeft } from '../lib/format'
import { overlayOpen, useNow, useShortcuts } from '../lib/hooks'
import { KEYBOARD_DWELL_MS } from '../lib/timing'
import { ExecutionFields, ExecutionStatus } from './ExecutionStatus'
import { EditParams } from './EditParams'
import { OwnerChange, ParamsView, RecordChanges, toolInfo } from './ParamsView'
import { conditionsInWords, fieldsOf, similarQuery, type ConditionFact } from '../lib/conditions'
import { useConditionFacts } from '../lib/condition-facts'
import { RuleEditor, type RuleDraft } from './RuleEditor'

/** The context to show on its own: a tool call's description of its tool is shown with the call. */
function contextBesidesTool(actionType: string, params: unknown, context: unknown): unknown {
  if (actionType !== 'call_tool' || !toolInfo(params, context)) return context
  const { tool: _tool, ...rest } = context as Record<string, unknown>
  return Object.values(rest).some((v) => v != null) ? rest : null
}

const RequestQuery = graphql(`
  query RequestDetail($id: ID!) {
    approvalRequest(id: $id) {
      id
      status
      resourceType
      actionType
      params
      module
      recordId
      summary
      context
      resolverType
      escalated
      stage
      stageCount
      requiredApprovals
      edited
      approvedParams
      votes {
        stage
        comment
        reviewer {
          __typename
          id
          name
        }
      }
      decisionComment
      decidedAt
      expiresAt
      createdAt
      decidedBy {
        __typename
        id
        name
      }
      requester {
        __typename
        id
        name
      }
      onBehalfOf {
        id
        name
      }
      proposedOwner {
        id
        name
      }
      recordChanges {
        field
        current
        proposed
        change
      }
      conditionError
      reviewers {
        __typename
        id
        name
      }
      rule {
        id
        name
        description
        version
        conditions
        module
        priority
        allowEdit
        escalateAfterSeconds
        primaryResolver {
          ...ResolverWords
        }
        fallbackResolver {
          ...ResolverWords
        }
        nextStages {
          name
          requiredApprovals
          escalateAfterSeconds
          primaryResolver {
            ...ResolverWords
          }
          fallbackResolver {
            ...ResolverWords
          }
        }
      }
      record {
        id
        module
        data
        owner {
          id
          name
        }
      }
      execution {
        ...ExecutionFields
      }
      events {
        type
        comment
        details
        at
        channel
        actor {
          __typename
          name
        }
        delegateOf {
          name
        }
      }
    }
  }
`)

const ResolverWordsFragment = graphql(`
  fragment ResolverWords on ResolverSpec {
    type
    roleKey
    delaySeconds
    user {
      name
    }
    agent {
      name
    }
  }
`)

/** Who a resolver names, in words. */
function resolverWords(ref: FragmentType<typeof ResolverWordsFragment> | null | undefined): string {
  const r = getFragmentData(ResolverWordsFragment, ref)
  if (!r) return 'nobody'
  switch (r.type) {
    case 'NAMED_USER':
      return r.user?.name ?? 'a named person'
    case 'ROLE':
      return `anyone with the role ${r.roleKey}`
    case 'MANAGER':
      return 'the manager of the person it is for'
    case 'RECORD_OWNER':
      return "the record's owner"
    case 'AGENT':
      return `the AI reviewer ${r.agent?.name ?? ''}`.trim()
    case 'AUTO_APPROVE':
      return r.delaySeconds ? `automatic approval after ${inWords(r.delaySeconds)}` : 'automatic approval'
    default:
      return humanize(r.type).toLowerCase()
  }
}

/** A number of seconds in the largest unit that fits: "90 minutes" stays "90 minutes", 7200 is "2 hours". */
function inWords(seconds: number): string {
  const units: [number, string][] = [[86_400, 'day'], [3600, 'hour'], [60, 'minute'], [1, 'second']]
  const [size, name] = units.find(([size]) => seconds % size === 0 && seconds >= size) ?? [1, 'second']
  const n = seconds / size
  return `${n} ${name}${n === 1 ? '' : 's'}`
}

const STATUS_TEXT: Record<string, string> = {
  APPROVED: 'approved',
  REJECTED: 'rejected',
  EXPIRED: 'expired',
  CANCELLED: 'cancelled',
}

/** A start's comment that only says "Attempt 2", which its label already does. */
const restatesAttempt = (e: { type: string; comment?: string | null; details?: unknown }) =>
  e.type === 'EXECUTION_STARTED' && e.comment === `Attempt ${eventAttempt(e.details)}`

/**
 * Everything a reviewer needs to decide a request, and the decision itself. `version` changes
 * when the inbox hears of a change, to read the request again.
 */

const draftKey = (id: string) => `approvals.comment.${id}`

/** A comment being written for a request, kept for the tab (it survives moving away and back, and the request being decided elsewhere). */
function useDraftComment(id: string): [string, (value: string) => void] {
  const [comment, setComment] = useState(() => sessionStorage.getItem(draftKey(id)) ?? '')
  const set = useCallback(
    (value: string) => {
      setComment(value)
      if (value) sessionStorage.setItem(draftKey(id), value)
      else sessionStorage.removeItem(draftKey(id))
    },
    [id],
  )
  return [comment, set]
}

/**
 * Everything a reviewer needs to decide a request, and the decision itself. `version` changes
 * when the inbox hears of a change, to read the request again. A decision goes through the undo
 * window (lib/decisions.tsx); a key decides only a request that has been on screen a moment, and
 * never while a dialog, menu or form is open over it; a rejection asks for a reason first. While a
 * form is being filled in (the reason, the edit, the rule of "allow similar"), keys neither decide
 * nor move away (the inbox asks lib/hooks.ts formOpen); Escape leaves it, as its Cancel does, and
 * Ctrl+Enter in its fields sends it, as its button says; Enter alone sends nothing.
 * `onOpened` is told once the request has been on screen that moment: the reviewer has seen it.
 */
export function RequestDetail({
  id,
  version = 0,
  onDecided,
  onOpened,
  shortcuts = false,
}: {
  id: string
  version?: number
  onDecided?: (id: string) => void
  onOpened?: (id: string) => void
  shortcuts?: boolean
}) {
  const session = useSession()
  const decisions = useDecisions()
  const now = useNow()
  const [{ data, error, fetching }, refetch] = useQuery({ query: RequestQuery, variables: { id } })
  const [comment, setComment] = useDraftComment(id)
  const [confirmReject, setConfirmReject] = useState(false)
  const [editing, setEditing] = useState(false)
  const [allowSimilar, setAllowSimilar] = useState(false)
  // a form being filled in: the reason for a rejection, the edit, the rule of "allow similar"
  const filling = confirmReject || editing || allowSimilar
  const commentField = useRef<HTMLTextAreaElement>(null)
  const heading = useRef<HTMLHeadingElement>(null)
  const decisionSection = useRef<HTMLElement>(null)
  const shownAt = useRef<number | null>(null)
  const first = useRef(true)
  useEffect(() => {
    if (first.current) {
      first.current = false
      return
    }
    refetch({ requestPolicy: 'network-only' })
  }, [version, refetch])

  const request = data?.approvalRequest
  // an approved action runs after the reviewer has moved on: follow it while it waits or runs
  const executionStatus = getFragmentData(ExecutionFields, request?.execution)?.status
  const running = executionStatus === 'READY' || executionStatus === 'RUNNING'
  useEffect(() => {
    if (!running) return
    const timer = setInterval(() => refetch({ requestPolicy: 'network-only' }), 3000)
    return () => clearInterval(timer)
  }, [running, refetch])
  const canDecide = !!request && request.status === 'PENDING' && request.reviewers.some((r) => r.id === session.viewerId) && !decisions.waiting.has(id)
  const loaded = !!request
  useEffect(() => {
    if (!loaded) return
    shownAt.current = performance.now()
    // in the inbox, focus follows the request that opened (after a decision, the next one)
    if (shortcuts) heading.current?.focus({ preventScroll: true })
  }, [loaded, shortcuts])
  useEffect(() => {
    if (!loaded || !onOpened) return
    const timer = setTimeout(() => onOpened(id), KEYBOARD_DWELL_MS)
    return () => clearTimeout(timer)
  }, [loaded, id, onOpened])

  const decide = useCallback(
    (verb: 'approve' | 'reject', params?: unknown) => {
      if (!canDecide || !request) return
      const reason = comment.trim()
      // a rejection without a reason: ask for one first (the agent is told it)
      if (verb === 'reject' && !reason && !confirmReject) {
        setConfirmReject(true)
        commentField.current?.focus()
        return
      }
      decisions.decide({ requestId: id, verb, comment: reason || null, title: request.summary ?? humanize(request.actionType), ...(params === undefined ? {} : { params }) })
      setComment('')
      setConfirmReject(false)
      setEditing(false)
      onDecided?.(id)
    },
    [canDecide, request, comment, confirmReject, decisions, id, setComment, onDecided],
  )
  // leaving the form being filled in (Escape, or its Cancel): the focus goes back to the request, where the keys act again
  const leaveForm = useCallback(() => {
    setConfirmReject(false)
    setEditing(false)
    setAllowSimilar(false)
    heading.current?.focus({ preventScroll: true })
  }, [])
  useShortcuts(
    useCallback(
      (key: string, event: KeyboardEvent) => {
        if (key === 'Escape') {
          // unless this Escape closed what was open over the form (the keys' help)
          if (filling && !event.defaultPrevented && !overlayOpen()) leaveForm()
          return
        }
        // while a form is being filled in, no key decides: a, pressed out of the reason's field,
        // approved the request being rejected, with the reason as its comment
        if (!shortcuts || filling || (key !== 'a' && key !== 'r')) return
        // what is open over the request (the keys' help, a confirmation, a menu) has the keys
        if (overlayOpen()) return
        // a key acts only on a request that has been on screen for a moment
        if (shownAt.current === null || performance.now() - shownAt.current < KEYBOARD_DWELL_MS) return
        // r moves the focus into the reason's field: the key itself must not be typed there
        event.preventDefault()
        decide(key === 'a' ? 'approve' : 'reject')
      },
      [shortcuts, filling, leaveForm, decide],
    ),
  )
  // keys in the form being filled in (focus within the decision): Escape leaves it; Ctrl+Enter
  // (⌘+Enter) in one of its fields sends it as its button says (Reject; Approve with these changes;
  // Create this rule and approve); Enter alone only ends a line, in a one-line field too, where it
  // would have submitted the form: a decision is never one key pressed at the end of a field
  const formKeys = (e: ReactKeyboardEvent) => {
    if (!filling || e.defaultPrevented || e.nativeEvent.isComposing) return
    if (e.key === 'Escape') {
      e.preventDefault()
      return leaveForm()
    }
    const field = e.target
    if (e.key !== 'Enter' || !(field instanceof HTMLInputElement || field instanceof HTMLTextAreaElement)) return
    if (!e.ctrlKey && !e.metaKey) {
      if (field instanceof HTMLInputElement) e.preventDefault()
      return
    }
    e.preventDefault()
    if (e.repeat) return
    if (confirmReject) return decide('reject')
    // the comment goes with the open form's approval: from it, Ctrl+Enter sends that form
    const form = field.form ?? (field === commentField.current ? decisionSection.current?.querySelector('form') : null)
    const send = form?.querySelector<HTMLButtonElement>('button[type="submit"]')
    if (send && !send.disabled) send.click()
  }

  // a requester who is not a reviewer is refused the rule's detail: the rest of the request still shows
  if (error && !request) return <p className="state error">{error.graphQLErrors[0]?.extensions?.code === 'NOT_FOUND' ? 'This request does not exist, or you may not see it.' : errorMessage(error)}</p>
  if (fetching && !request) return <p className="state">Loading…</p>
  if (!request) return null
  const left = timeLeft(request.expiresAt, now)
  // a cancellation has no decider: its event says who withdrew it and why
  const settledEvent = [...request.events].reverse().find((e) => e.type === request.status)
  const settledBy = request.decidedBy?.name ?? settledEvent?.actor?.name
  const settledComment = request.decisionComment ?? settledEvent?.comment
  const others = request.reviewers.filter((r) => r.id !== session.viewerId)
  const otherContext = contextBesidesTool(request.actionType, request.params, request.context)
  // the stage being decided, as its rule says (shown to those who see the rule's detail)
  const rule = request.rule
  const stageNow = rule?.primaryResolver
    ? request.stage <= 1
      ? { primaryResolver: rule.primaryResolver, fallbackResolver: rule.fallbackResolver, escalateAfterSeconds: rule.escalateAfterSeconds }
      : rule.nextStages?.[request.stage - 2]
    : undefined
  const nextStage = rule?.nextStages?.[request.stage - 1]

  return (
    <article className="request">
      <header>
        <p className="kicker">
          {humanize(request.actionType)}
          {request.module && <> · {request.module}</>}
        </p>
        {shortcuts && (
          <Link href="/inbox" className="back">
            ← Inbox
          </Link>
        )}
        <h2 ref={heading} tabIndex={-1}>
          {request.summary ?? humanize(request.actionType)}
        </h2>
        <p className="meta">
          Asked by <strong>{request.requester.name}</strong>
          {request.requester.__typename === 'Agent' && ' (agent)'}
          {request.onBehalfOf && (
            <>
              {' '}
              for <strong>{request.onBehalfOf.name}</strong>
            </>
          )}{' '}
          · {formatDateTime(request.createdAt)}
          {left && request.status === 'PENDING' && <> · {left === 'expired' ? 'expired' : `expires ${left}`}</>}
        </p>
      </header>

      {request.status !== 'PENDING' && (
        <p className={`banner ${request.status.toLowerCase()}`} role="status">
          This request was {STATUS_TEXT[request.status]}
          {settledBy && <> by {settledBy}</>}
          {request.decidedAt && <> on {formatDateTime(request.decidedAt)}</>}
          {settledComment && <>: “{settledComment}”</>}
        </p>
      )}
      {request.execution && (
        <p className="banner run">
          <ExecutionStatus execution={request.execution} />
        </p>
      )}
      {request.conditionError && (
        <p className="banner warn" role="note">
          The rule's conditions could not be evaluated for this request, so it was held for review: {request.conditionError}
        </p>
      )}
      {request.status !== 'PENDING' && comment && (
        <div className="banner warn unsent" role="note">
          <p>Your comment was not sent: the request was settled before you decided. Here it is, to use elsewhere:</p>
          <textarea readOnly value={comment} aria-label="Your unsent comment" rows={2} />
          <div className="buttons">
            <button type="button" onClick={() => void navigator.clipboard?.writeText(comment)}>
              Copy
            </button>
            <button type="button" className="link" onClick={() => setComment('')}>
              Discard
            </button>
          </div>
        </div>
      )}

      <section>
        <h3>What the agent wants to do</h3>
        {request.recordChanges ? <RecordChanges changes={request.recordChanges} /> : <ParamsView actionType={request.actionType} params={request.params} context={request.context} />}
        <OwnerChange request={request} />
        {request.record && request.actionType === 'update_record' && (
          <details>
            <summary>The record now</summary>
            <ParamsView actionType="update_record" params={{ data: request.record.data }} />
          </details>
        )}
      </section>

      {otherContext != null && (
        <section>
          <h3>Context</h3>
          <ParamsView actionType="context" params={otherContext} />
        </section>
      )}

      <section>
        <h3>Why it needs approval</h3>
        {request.rule ? (
          <>
            <p>
              Rule <strong>{request.rule.name}</strong> (version {request.rule.version}, priority {request.rule.priority}) gates {humanize(request.actionType).toLowerCase()}
              {request.rule.module && <> in {request.rule.module}</>}
              {request.rule.conditions ? ' when:' : ' always.'}
            </p>
            {request.rule.description && <p className="muted">{request.rule.description}</p>}
            {request.rule.conditions != null && <ConditionsInWords conditions={request.rule.conditions} actionType={request.actionType} />}
          </>
        ) : (
          <p className="muted">The rule has been deleted.</p>
        )}
        <p className="assignment">
          {stageNow ? (
            <>
              Decided by {resolverWords(stageNow.primaryResolver)}
              {request.escalated && stageNow.fallbackResolver ? <> — escalated to {resolverWords(stageNow.fallbackResolver)}</> : request.escalated ? ' — escalated to the approval managers' : null}
              .{' '}
            </>
          ) : (
            <>Assigned to: {humanize(request.resolverType).toLowerCase()}{request.escalated && ' (escalated)'}. </>
          )}
          {request.status === 'PENDING' && others.length > 0 && <>Also able to decide now: {others.map((r) => r.name).join(', ')}. </>}
          {request.status === 'PENDING' && others.length === 0 && !(stageNow?.fallbackResolver && !request.escalated) && <>Nobody else can decide it now. </>}
          {request.status === 'PENDING' && stageNow?.fallbackResolver && !request.escalated && (
            <>
              {stageNow.escalateAfterSeconds ? <>If nobody decides within {inWords(stageNow.escalateAfterSeconds)}, it goes to </> : <>It can be handed on to </>}
              {resolverWords(stageNow.fallbackResolver)}.
            </>
          )}
        </p>
        {stageNow && getFragmentData(ResolverWordsFragment, stageNow.fallbackResolver)?.type === 'AUTO_APPROVE' && (
          <p className="banner warn" role="note">
            If nobody decides in time, this request is approved automatically.
          </p>
        )}
        {(request.stageCount > 1 || request.requiredApprovals > 1) && (
          <p className="stage-progress">
            {request.stageCount > 1 && <>Stage {request.stage} of {request.stageCount}. </>}
            {request.status === 'PENDING' && (
              <>
                {request.votes.filter((v) => v.stage === request.stage).length} of {request.requiredApprovals} approvals in this stage
                {nextStage ? <>; then {nextStage.name ?? `stage ${request.stage + 1}`} ({resolverWords(nextStage.primaryResolver)})</> : null}.
              </>
            )}
          </p>
        )}
        {request.votes.length > 0 && (
          <ul className="votes" aria-label="Approvals so far">
            {request.votes.map((v) => (
              <li key={`${v.stage}-${v.reviewer.id}`}>
                {request.stageCount > 1 && <>Stage {v.stage}: </>}
                {v.reviewer.name} approved{v.comment ? <> — “{v.comment}”</> : null}
              </li>
            ))}
          </ul>
        )}
        {request.status === 'PENDING' && request.edited && request.approvedParams != null && (
          <>
            <p>An earlier stage approved it with changes; this is the version under review:</p>
            <pre className="json">{JSON.stringify(request.approvedParams, null, 2)}</pre>
          </>
        )}
      </section>

      {request.status === 'PENDING' && (
        <section className="decision" ref={decisionSection} onKeyDown={formKeys} data-form-open={(canDecide && filling) || undefined}>
          <h3>Your decision</h3>
          {canDecide ? (
            <>
              <label htmlFor="comment">{confirmReject ? 'Why reject it? The agent is told (optional)' : 'Comment (optional)'}</label>
              <textarea
                id="comment"
                ref={commentField}
                value={comment}
                onChange={(e) => setComment(e.target.value)}
                rows={3}
                placeholder={confirmReject ? 'What was wrong, so the agent can do better' : 'Why, or what to change'}
              />
              {editing && (
                <EditParams
                  actionType={request.actionType}
                  context={request.context}
                  params={((request.edited && request.approvedParams) || request.params) as Record<string, unknown>}
                  onApprove={(edited) => decide('approve', edited)}
                  onCancel={leaveForm}
                />
              )}
              {/* while the edit form or "allow similar" is open, only their own actions show: a plain Approve there would approve the unedited original */}
              {!editing && !allowSimilar && (
                <div className="buttons">
                  {confirmReject ? (
                    <>
                      <button type="button" className="reject" onClick={() => decide('reject')}>
                        {comment.trim() ? 'Reject' : 'Reject without a reason'}
                      </button>
                      <button type="button" className="link" onClick={leaveForm}>
                        Cancel
                      </button>
                    </>
                  ) : (
                    <>
                      <button type="button" className="approve" onClick={() => decide('approve')}>
                        Approve <kbd>a</kbd>
                      </button>
                      <button type="button" className="reject" onClick={() => decide('reject')}>
                        Reject <kbd>r</kbd>
                      </button>
                      {request.rule?.allowEdit && (
                        <button type="button" onClick={() => setEditing(true)}>
                          Edit, then approve…
                        </button>
                      )}
                      {session.can('approval:manage') && (
                        <button type="button" onClick={() => setAllowSimilar(true)}>
                          Approve and allow similar…
                        </button>
                      )}
                    </>
                  )}
                </div>
              )}
              {allowSimilar && !editing && !confirmReject && (
                <AllowSimilar
                  request={request}
                  onCancel={leaveForm}
                  onCreated={() => {
                    setAllowSimilar(false)
                    decide('approve')
                  }}
                />
              )}
            </>
          ) : decisions.waiting.has(id) ? (
            <p className="muted">Your decision is sent in a few seconds unless you undo it.</p>
          ) : (
            <p className="muted">You are not a reviewer of this request.</p>
          )}
        </section>
      )}

      <section>
        <h3>History</h3>
        <ol className="timeline">
          {request.events.map((e, i) => (
            <li key={i}>
              <span className={`event ${e.type.toLowerCase()}`}>{eventLabel(e.type, e.details)}</span> {e.actor ? e.actor.name : 'the service'}
              {e.delegateOf && <> for {e.delegateOf.name}</>}
              {e.channel && <> {channelLabel(e.channel)}</>} ·{' '}
              <time dateTime={e.at}>{formatDateTime(e.at)}</time>
              {e.comment && !restatesAttempt(e) && <p className="comment">{e.comment}</p>}
            </li>
          ))}
        </ol>
      </section>
    </article>
  )
}

/** A rule's conditions as the rule editor's builder words them, with the JSONLogic they are stored as a click away. */
function ConditionsInWords({ conditions, actionType }: { conditions: unknown; actionType: string }) {
  const facts = useConditionFacts(actionType)
  const words = conditionsInWords(conditions, fieldsOf(facts ?? []))
  const json = <pre className="json">{JSON.stringify(conditions, null, 2)}</pre>
  if (!words) return json
  return (
    <>
      <p className="conditions-words">{words}</p>
      <details>
        <summary>As stored (JSONLogic)</summary>
        {json}
      </details>
    </>
  )
}

/**
 * "Approve and allow similar", for those who manage the rules: the rule that would approve
 * requests like this one from now on, shown in full and editable (conditions prefilled in the
 * builder), created only on confirmation; then this request is approved as any other decision.
 */
function AllowSimilar({
  request,
  onCancel,
  onCreated,
}: {
  request: {
    summary?: string | null
    actionType: string
    resourceType: RuleDraft['resourceType']
    module?: string | null
    params: unknown
    context?: unknown
    requester: { id: string; name: string }
    onBehalfOf?: { id: string; name: string } | null
    rule?: { priority: number } | null
  }
  onCancel: () => void
  onCreated: () => void
}) {
  const title = request.summary ?? humanize(request.actionType)
  const [template] = useState<RuleDraft>(() => ({
    name: `Allow: ${title}`.slice(0, 80),
    description: `Approves requests like “${title}” from ${request.requester.name}${request.onBehalfOf ? ` for ${request.onBehalfOf.name}` : ''} without a reviewer.`.slice(0, 500),
    resourceType: request.resourceType,
    actionType: request.actionType,
    module: request.module ?? null,
    // above the rule that gated this one, so that it is the one that matches from now on
    priority: (request.rule?.priority ?? 0) + 1,
    primaryResolver: { type: 'AUTO_APPROVE', delaySeconds: 0 },
    fallbackResolver: null,
    enabled: true,
    allowSelfApproval: false,
    allowEdit: false,
    onExpiry: 'EXPIRE',
    requiredApprovals: 1,
    nextStages: [],
  }))
  const facts = useConditionFacts(request.actionType)
  // the rule opens below the buttons: bring it into view, its heading first for screen readers
  const heading = useRef<HTMLHeadingElement>(null)
  useEffect(() => {
    heading.current?.scrollIntoView({ block: 'start' })
    heading.current?.focus({ preventScroll: true })
  }, [])
  return (
    <section className="allow-similar" aria-labelledby="allow-similar-heading">
      <h4 id="allow-similar-heading" ref={heading} tabIndex={-1}>
        Approve, and allow similar requests
      </h4>
      <p className="rule-warning">
        <strong>From now on, requests like this one are approved at once, with nobody asked.</strong> Check the rule below and narrow its conditions if need be. Confirming
        creates it, then approves this request (a decision you can still undo for a few seconds; the rule stays until you delete it).
      </p>
      {!facts ? (
        <p className="muted">Loading…</p>
      ) : (
        <SimilarRuleEditor facts={facts} request={request} template={template} onDone={(createdId) => (createdId ? onCreated() : onCancel())} />
      )}
    </section>
  )
}

/** The rule editor with the conditions of requests like `request`, worded with its action type's facts. */
function SimilarRuleEditor({
  facts,
  request,
  template,
  onDone,
}: {
  facts: readonly ConditionFact[]
  request: Parameters<typeof similarQuery>[0] & { params: unknown; context?: unknown }
  template: RuleDraft
  onDone: (createdId?: string) => void
}) {
  const [conditions] = useState(() => similarQuery(request, facts))
  return (
      <RuleEditor
        rule={null}
        template={template}
        conditions={conditions}
        submitLabel="Create this rule and approve"
        embedded
        sample={{ params: request.params, context: request.context ?? null }}
        onDone={onDone}
      />
  )
}
