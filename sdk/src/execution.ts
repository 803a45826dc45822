// Running one leased attempt of an approved action: check the params against their digest,
// run the function while keeping the lease alive, report how it went. gate() and worker()
// both run actions through here.
import { paramsDigest, toJsonResult } from './digest.js'
import { ApprovalIntegrityError, ApprovalsError } from './errors.js'
import { COMPLETE_EXECUTION, EXTEND_LEASE, FAIL_EXECUTION, type LeaseData } from './operations.js'
import type { Transport } from './transport.js'

/** What a gated function or a worker's handler is told about the attempt it runs. */
export interface ExecutionContext {
  /**
   * The approval request's id: the same for every attempt at this action, so a stable
   * idempotency key for the outside system (an email provider's, a payment API's). Null when
   * no rule gated the call and nothing was recorded.
   */
  requestId: string | null
  /** 1 for the first attempt, 2 for the next (after a failure or a lost lease), and so on. */
  attempt: number
  /**
   * Whether the reviewer approved the action with changed params: the function receives those,
   * not the ones asked for (`requestedParams`). Tell the agent's model, so that it knows what ran.
   */
  edited: boolean
  /** The params as the agent asked for them (equal to the ones run unless `edited`). */
  requestedParams: unknown
  /** Aborted when the lease is lost (it ran out, or another claim took it) or the client closes. */
  signal: AbortSignal
}

/** @internal */
export interface RunOptions {
  leaseSeconds: number
  /** Called with errors that do not change the outcome (a failed lease extension, say). */
  onError?: (error: unknown) => void
  signal?: AbortSignal
  /** Whether a failure of the function is reported as retryable (default true). */
  retryable?: boolean
}

const messageOf = (error: unknown): string => {
  const message = error instanceof Error ? error.message : String(error)
  return (message.trim() || 'The action failed.').slice(0, 5000)
}

/**
 * Runs `fn` on the lease's params and reports the outcome with the lease token: completed with
 * its (JSON) value, or failed (retryable unless `options.retryable` is false) with its error's message. Params whose digest does
 * not match are failed for good and nothing runs (ApprovalIntegrityError). The lease is
 * extended every half lease while `fn` runs; if that fails with CONFLICT the lease is lost and
 * the context's signal aborts. Resolves with the value, rejects with fn's error (or with
 * REPORT_FAILED when the action ran but its success could not be reported).
 * @internal
 */
export async function runLease<R>(
  transport: Transport,
  lease: LeaseData,
  fn: (params: any, context: ExecutionContext) => R | Promise<R>,
  options: RunOptions,
): Promise<R> {
  const requestId = lease.request.id
  const execution = lease.request.execution
  const params = execution?.params ?? lease.request.params
  const digest = paramsDigest(params)
  if (!execution || digest !== execution.paramsDigest) {
    const error = new ApprovalIntegrityError(requestId, execution?.paramsDigest ?? '(none)', digest)
    await transport
      .request(FAIL_EXECUTION, { leaseToken: lease.leaseToken, error: error.message, retryable: false })
      .catch((reportError) => options.onError?.(reportError))
    throw error
  }

  const leaseLost = new AbortController()
  const signal = AbortSignal.any([leaseLost.signal, transport.closed, ...(options.signal ? [options.signal] : [])])
  const extend = setInterval(() => {
    transport.request(EXTEND_LEASE, { leaseToken: lease.leaseToken, leaseSeconds: options.leaseSeconds }).catch((error) => {
      if (error instanceof ApprovalsError && error.code === 'CONFLICT') {
        clearInterval(extend)
        leaseLost.abort(error)
      }
      options.onError?.(error)
    })
  }, (options.leaseSeconds * 1000) / 2)
  extend.unref?.()

  let value: R
  try {
    value = await fn(params, { requestId, attempt: lease.attempt, signal, edited: lease.request.edited ?? false, requestedParams: lease.request.params })
  } catch (error) {
    clearInterval(extend)
    if (!transport.closed.aborted) {
      await transport
        .request(FAIL_EXECUTION, { leaseToken: lease.leaseToken, error: messageOf(error), retryable: options.retryable ?? true })
        .catch((reportError) => options.onError?.(reportError))
    }
    throw error
  }
  clearInterval(extend)
  let result: unknown
  try {
    result = toJsonResult(value)
  } catch (error) {
    // the action ran: record the success rather than have it run again, without a result
    options.onError?.(new ApprovalsError(`The result is not JSON (${messageOf(error)}); it was reported as null.`, { code: 'BAD_USER_INPUT', requestId, cause: error }))
    result = null
  }
  try {
    await transport.request(COMPLETE_EXECUTION, { leaseToken: lease.leaseToken, result })
  } catch (error) {
    // the action ran, but the service does not know: say so, rather than let a caller retry blindly
    throw new ApprovalsError(`The action ran, but reporting its success failed: ${messageOf(error)}`, {
      code: 'REPORT_FAILED',
      requestId,
      cause: error,
    })
  }
  return value
}
