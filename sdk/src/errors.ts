// The SDK's errors: one base class carrying the API's `extensions.code`, and one subclass per
// outcome an agent must tell apart (rejected, expired, cancelled, timed out, aborted, tampered).

/** One GraphQL error as the API sends it. */
export interface GraphQLErrorLike {
  message: string
  path?: readonly (string | number)[]
  extensions?: { code?: string; pointer?: string; field?: string; retryAfterSeconds?: number; [key: string]: unknown }
}

/** What an {@link ApprovalsError} may carry besides its message. */
export interface ApprovalsErrorOptions {
  /** The API's `extensions.code`, or one of the SDK's own codes (see {@link ApprovalsError.code}). */
  code: string
  /** For BAD_USER_INPUT on params: the JSON Pointer of the first bad value. */
  pointer?: string
  /** For BAD_USER_INPUT: the input field at fault. */
  field?: string
  /** For RATE_LIMITED: how long to wait before trying again. */
  retryAfterSeconds?: number
  /** The approval request concerned, when there is one. */
  requestId?: string
  /** Every error of the response, when it came from the API. */
  errors?: readonly GraphQLErrorLike[]
  cause?: unknown
}

/**
 * Every error the SDK throws. `code` is the API's `extensions.code` when the error came from the
 * API (UNAUTHENTICATED, FORBIDDEN, NOT_FOUND, BAD_USER_INPUT, CONFLICT, RATE_LIMITED), otherwise
 * one of the SDK's: REJECTED, EXPIRED, CANCELLED, TIMEOUT, ABORTED, INTEGRITY, EXECUTION_FAILED,
 * REPORT_FAILED (the action ran; reporting it did not), NETWORK, CLOSED, INVALID_RESPONSE.
 */
export class ApprovalsError extends Error {
  /** The API's `extensions.code`, or the SDK's own code for failures that are not the API's. */
  readonly code: string
  /** For BAD_USER_INPUT on params: the JSON Pointer of the first bad value (e.g. `/to`). */
  readonly pointer?: string
  /** For BAD_USER_INPUT: the input field at fault. */
  readonly field?: string
  /** For RATE_LIMITED: seconds to wait before trying again. */
  readonly retryAfterSeconds?: number
  /** The approval request concerned, when there is one. */
  readonly requestId?: string
  /** Every error of the API's response, when it came from the API. */
  readonly errors?: readonly GraphQLErrorLike[]

  constructor(message: string, options: ApprovalsErrorOptions) {
    super(message, options.cause === undefined ? undefined : { cause: options.cause })
    this.name = new.target.name
    this.code = options.code
    if (options.pointer !== undefined) this.pointer = options.pointer
    if (options.field !== undefined) this.field = options.field
    if (options.retryAfterSeconds !== undefined) this.retryAfterSeconds = options.retryAfterSeconds
    if (options.requestId !== undefined) this.requestId = options.requestId
    if (options.errors !== undefined) this.errors = options.errors
  }

  /**
   * The error for a GraphQL response's `errors`: the first error's message and
   * `extensions.code` (GRAPHQL_ERROR when it has none), `pointer`, `field` and
   * `retryAfterSeconds`; all of them are kept in `errors`.
   */
  static fromGraphQL(errors: readonly GraphQLErrorLike[], extra: { requestId?: string; retryAfterSeconds?: number } = {}): ApprovalsError {
    const first = errors[0]
    const ext = first?.extensions ?? {}
    return new ApprovalsError(first?.message ?? 'The API answered with an error.', {
      code: typeof ext.code === 'string' ? ext.code : 'GRAPHQL_ERROR',
      pointer: typeof ext.pointer === 'string' ? ext.pointer : undefined,
      field: typeof ext.field === 'string' ? ext.field : undefined,
      retryAfterSeconds: typeof ext.retryAfterSeconds === 'number' ? ext.retryAfterSeconds : extra.retryAfterSeconds,
      requestId: extra.requestId,
      errors,
    })
  }
}

/** The reviewer rejected the action. `reviewer` and `comment` say who and why, to tell the model. */
export class ApprovalRejectedError extends ApprovalsError {
  /** The name of whoever rejected the request (a user or a reviewer agent), when known. */
  readonly reviewer: string | null
  /** The reviewer's comment, when they left one. */
  readonly comment: string | null

  constructor(requestId: string, reviewer: string | null, comment: string | null) {
    super(`Rejected${reviewer ? ` by ${reviewer}` : ''}${comment ? `: ${comment}` : '.'}`, { code: 'REJECTED', requestId })
    this.reviewer = reviewer
    this.comment = comment
  }
}

/** Nobody decided the request before it expired; the action did not run. */
export class ApprovalExpiredError extends ApprovalsError {
  constructor(requestId: string) {
    super('The approval request expired before anyone decided it; the action did not run.', { code: 'EXPIRED', requestId })
  }
}

/** The request was withdrawn (by its requester or an approval manager); the action did not run. */
export class ApprovalCancelledError extends ApprovalsError {
  /** Why it was cancelled, when a reason was given. */
  readonly reason: string | null
  constructor(requestId: string, reason: string | null) {
    super(`The approval request was cancelled${reason ? `: ${reason}` : '.'}`, { code: 'CANCELLED', requestId })
    this.reason = reason
  }
}

/**
 * The wait for a decision took longer than `timeoutMs`. The request stays pending: calling the
 * gated function again with the same params (or idempotency key) picks it up again.
 */
export class ApprovalTimeoutError extends ApprovalsError {
  constructor(requestId: string, timeoutMs: number) {
    super(`No decision within ${timeoutMs} ms; the request stays pending.`, { code: 'TIMEOUT', requestId })
  }
}

/** The caller's AbortSignal fired; `cause` is the signal's reason. */
export class ApprovalAbortedError extends ApprovalsError {
  constructor(reason: unknown, requestId?: string) {
    super('Aborted.', { code: 'ABORTED', requestId, cause: reason })
  }
}

/**
 * The params the server handed over to run do not match their digest: they were changed on
 * the way. The execution is failed for good and nothing runs.
 */
export class ApprovalIntegrityError extends ApprovalsError {
  constructor(requestId: string, expected: string, actual: string) {
    super(`The approved params do not match their digest (server ${expected}, computed ${actual}); nothing was run.`, {
      code: 'INTEGRITY',
      requestId,
    })
  }
}

/** The approved action cannot run: its execution FAILED for good, or another worker is running it. */
export class ApprovalExecutionError extends ApprovalsError {
  /** The execution's status when it could not be claimed. */
  readonly executionStatus: string | null
  constructor(requestId: string, executionStatus: string | null, message: string) {
    super(message, { code: 'EXECUTION_FAILED', requestId })
    this.executionStatus = executionStatus
  }
}
