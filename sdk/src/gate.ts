// gate(): one gated call. Ask for approval, wait for the decision (pushed over the WebSocket),
// then run the function once under a lease and report how it went.
import { defaultIdempotencyKey } from './digest.js'
import {
  ApprovalAbortedError,
  ApprovalCancelledError,
  ApprovalExecutionError,
  ApprovalExpiredError,
  ApprovalRejectedError,
  ApprovalsError,
  ApprovalTimeoutError,
} from './errors.js'
import { runLease, type ExecutionContext } from './execution.js'
import { APPROVAL_DECISION, APPROVAL_REQUEST, CLAIM_EXECUTION, REQUEST_APPROVAL, type DecidedRequest, type LeaseData } from './operations.js'
import { backoffMs, isTransient, type Transport } from './transport.js'

/** Options of {@link Approvals.gate}, fixed for every call of the gated function. */
export interface GateOptions<P> {
  /** One line for the reviewer, e.g. `(p) => \`Email ${p.to}\``. */
  summary?: (params: P) => string
  /** Anything that helps the reviewer decide (the conversation, the task); shown, not run. */
  context?: (params: P) => unknown
  /** The person whose task the agent runs; defaults to the agent's owner. */
  onBehalfOfUserId?: string
  /** Narrows rule matching to one module. */
  module?: string
  /** How long to wait for a decision before throwing {@link ApprovalTimeoutError}; no limit by default. */
  timeoutMs?: number
  /** The lease taken while the function runs (extended every half lease). Default 60. */
  leaseSeconds?: number
  /**
   * Whether the function's failure leaves the action to be run again (READY, for a `worker()` or
   * the next call with the same idempotency key). Default true. With false it is FAILED for good:
   * for callers whose calls nobody retries, such as the MCP gateway's, which end with their client.
   */
  retryFailures?: boolean
}

/** Options of one call of a gated function. */
export interface GateCallOptions {
  /**
   * Replaces the default key (a fresh one per call): calls with the same key return the same
   * request, and, once it ran, its result. Use a stable key (a task's step id) so that a
   * restarted agent resumes the request it made before.
   */
  idempotencyKey?: string
  /** Stops waiting (the subscription is closed) and rejects with {@link ApprovalAbortedError}; also passed to the function. */
  signal?: AbortSignal
  /** Overrides the gate's `timeoutMs` for this call. */
  timeoutMs?: number
  /** Overrides the gate's `onBehalfOfUserId` for this call. */
  onBehalfOfUserId?: string
  /** Called once the request exists and the wait starts (e.g. to log where a human decides). */
  onRequest?: (request: { id: string; status: string }) => void
}

/** The function `gate()` returns: the gated action, run only once approved. */
export type GatedFunction<P, R> = (params: P, callOptions?: GateCallOptions) => Promise<R>

/** A function that performs the action; receives the params to run (as approved) and its attempt. */
export type ActionFunction<P, R> = (params: P, context: ExecutionContext) => R | Promise<R>

const aborted = (signal: AbortSignal, requestId?: string) => new ApprovalAbortedError(signal.reason, requestId)

/**
 * Waits for the request's final state on the `approvalDecision` subscription. If the
 * subscription fails for a reason of the connection, or ends without an answer, it subscribes
 * again: the server answers at once when the request is already final.
 * @internal
 */
export function waitForDecision(
  transport: Transport,
  requestId: string,
  options: { signal?: AbortSignal; timeoutMs?: number },
): Promise<DecidedRequest> {
  return new Promise((resolve, reject) => {
    const { signal, timeoutMs } = options
    if (signal?.aborted) return reject(aborted(signal, requestId))
    let settled = false
    let dispose = () => {}
    let retries = 0
    let retryTimer: NodeJS.Timeout | undefined
    const timeout = timeoutMs === undefined ? undefined : setTimeout(() => finish(() => reject(new ApprovalTimeoutError(requestId, timeoutMs))), timeoutMs)
    const onAbort = () => finish(() => reject(aborted(signal!, requestId)))
    const onClosed = () => finish(() => reject(new ApprovalsError('This approvals client is closed.', { code: 'CLOSED', requestId })))
    signal?.addEventListener('abort', onAbort, { once: true })
    transport.closed.addEventListener('abort', onClosed, { once: true })

    function finish(settle: () => void) {
      if (settled) return
      settled = true
      clearTimeout(timeout)
      clearTimeout(retryTimer)
      signal?.removeEventListener('abort', onAbort)
      transport.closed.removeEventListener('abort', onClosed)
      dispose()
      settle()
    }
    function retry() {
      if (settled) return
      retryTimer = setTimeout(subscribe, backoffMs(retries++))
    }
    function subscribe() {
      if (settled) return
      dispose = transport.subscribe<{ approvalDecision: DecidedRequest }>(APPROVAL_DECISION, { requestId }, {
        next: (data) => {
          if (data.approvalDecision.status !== 'PENDING') finish(() => resolve(data.approvalDecision))
        },
        error: (error) => {
          if (isTransient(error)) retry()
          else finish(() => reject(error))
        },
        complete: retry,
      })
    }
    subscribe()
  })
}

/** What asking for approval of one action takes. @internal */
export interface AskOptions<P> {
  summary?: (params: P) => string
  context?: (params: P) => unknown
  module?: string
  onBehalfOfUserId?: string
  idempotencyKey?: string
}

/** The answer of requestApproval. @internal */
export interface AskPayload {
  approvalRequired: boolean
  request: DecidedRequest | null
}

/**
 * Asks for approval of one AGENT_ACTION (requestApproval), with a fresh idempotency key unless
 * one is given. An abort while it is in flight rejects with {@link ApprovalAbortedError}.
 * @internal
 */
export async function requestApproval<P>(
  transport: Transport,
  actionType: string,
  params: P,
  options: AskOptions<P>,
  signal?: AbortSignal,
): Promise<AskPayload> {
  if (signal?.aborted) throw aborted(signal)
  const input = {
    resourceType: 'AGENT_ACTION',
    actionType,
    params,
    module: options.module,
    summary: options.summary?.(params),
    context: options.context?.(params),
    onBehalfOfUserId: options.onBehalfOfUserId,
    idempotencyKey: options.idempotencyKey ?? defaultIdempotencyKey(),
  }
  try {
    return (await transport.request<{ requestApproval: AskPayload }>(REQUEST_APPROVAL, { input }, signal)).requestApproval
  } catch (error) {
    if (signal?.aborted) throw aborted(signal)
    throw error
  }
}

/** @internal */
export function createGate<P, R>(
  transport: Transport,
  actionType: string,
  fn: ActionFunction<P, R>,
  options: GateOptions<P> = {},
): GatedFunction<P, R> {
  const leaseSeconds = options.leaseSeconds ?? 60

  async function claim(requestId: string, signal?: AbortSignal): Promise<LeaseData | { result: unknown }> {
    for (let tries = 0; ; tries++) {
      try {
        const data = await transport.request<{ claimExecution: LeaseData }>(CLAIM_EXECUTION, { requestId, leaseSeconds }, signal)
        return data.claimExecution
      } catch (error) {
        if (!(error instanceof ApprovalsError) || error.code !== 'CONFLICT') throw error
      }
      // not ready: it ran already, runs elsewhere, or failed for good
      const { approvalRequest } = await transport.request<{ approvalRequest: DecidedRequest | null }>(APPROVAL_REQUEST, { id: requestId }, signal)
      const execution = approvalRequest?.execution
      if (execution?.status === 'SUCCEEDED') return { result: execution.result }
      if (execution?.status === 'READY' && tries < 3) continue
      throw new ApprovalExecutionError(
        requestId,
        execution?.status ?? null,
        execution?.status === 'FAILED'
          ? `The approved action failed for good: ${execution.error ?? 'no reason given'}`
          : execution?.status === 'RUNNING'
            ? 'Another worker is running the approved action.'
            : 'The approved action cannot be claimed.',
      )
    }
  }

  return async function gated(params: P, callOptions: GateCallOptions = {}): Promise<R> {
    const signal = callOptions.signal
    const payload = await requestApproval(
      transport,
      actionType,
      params,
      { ...options, onBehalfOfUserId: callOptions.onBehalfOfUserId ?? options.onBehalfOfUserId, idempotencyKey: callOptions.idempotencyKey },
      signal,
    )
    if (!payload.approvalRequired || !payload.request) {
      return fn(params, { requestId: null, attempt: 1, signal: signal ?? new AbortController().signal, edited: false, requestedParams: params })
    }
    const requestId = payload.request.id
    callOptions.onRequest?.({ id: requestId, status: payload.request.status })
    const decided =
      payload.request.status === 'PENDING'
        ? await waitForDecision(transport, requestId, { signal, timeoutMs: callOptions.timeoutMs ?? options.timeoutMs })
        : payload.request
    switch (decided.status) {
      case 'REJECTED':
        throw new ApprovalRejectedError(requestId, decided.decidedBy?.name ?? null, decided.decisionComment)
      case 'EXPIRED':
        throw new ApprovalExpiredError(requestId)
      case 'CANCELLED':
        throw new ApprovalCancelledError(requestId, decided.decisionComment)
      case 'APPROVED':
        break
      default:
        throw new ApprovalsError(`Unexpected request status ${decided.status}.`, { code: 'INVALID_RESPONSE', requestId })
    }
    if (decided.execution?.status === 'SUCCEEDED') return decided.execution.result as R
    let claimed: LeaseData | { result: unknown }
    try {
      claimed = await claim(requestId, signal)
    } catch (error) {
      if (signal?.aborted) throw aborted(signal, requestId)
      throw error
    }
    if (!('leaseToken' in claimed)) return claimed.result as R
    return runLease(transport, claimed, fn, { leaseSeconds, signal, retryable: options.retryFailures ?? true })
  }
}
