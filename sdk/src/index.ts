// @approvals/sdk: the agent's side of the approvals service. createApprovals() holds the
// connection; gate(), worker() and reviewer() are built on it.
import { createGate, type ActionFunction, type GatedFunction, type GateOptions } from './gate.js'
import { startReviewer, type Reviewer, type ReviewerOptions } from './reviewer.js'
import { createTransport, registerTransport, type Transport } from './transport.js'
import { startWorker, type Worker, type WorkerOptions } from './worker.js'

export {
  ApprovalAbortedError,
  ApprovalCancelledError,
  ApprovalExecutionError,
  ApprovalExpiredError,
  ApprovalIntegrityError,
  ApprovalRejectedError,
  ApprovalsError,
  ApprovalTimeoutError,
  type ApprovalsErrorOptions,
  type GraphQLErrorLike,
} from './errors.js'
export { defaultIdempotencyKey, paramsDigest } from './digest.js'
export type { ExecutionContext } from './execution.js'
export type { ActionFunction, GateCallOptions, GatedFunction, GateOptions } from './gate.js'
export type { ActionHandler, Submitted, SubmitOptions, Worker, WorkerErrorContext, WorkerOptions } from './worker.js'
export type { DecidedRequest, ExecutionState } from './operations.js'
export type { Reviewer, ReviewDecision, ReviewerOptions, ReviewRequest } from './reviewer.js'

/** Options of {@link createApprovals}. */
export interface ApprovalsOptions {
  /** The API's HTTP endpoint, e.g. `http://localhost:4000/graphql`. */
  url: string
  /** An API token of the agent (sent as `Authorization: Bearer`, and in the WebSocket's connectionParams). */
  token: string | undefined
  /** The WebSocket endpoint; by default `url` with ws:// or wss://. */
  wsUrl?: string
  /** The fetch to use; by default the global one. */
  fetch?: typeof globalThis.fetch
  /** A WebSocket constructor; by default the `ws` package's (Node 20 has no global WebSocket). */
  webSocketImpl?: unknown
  /** Reconnection attempts of the WebSocket (randomised exponential backoff up to 30 s). Default: no limit. */
  retryAttempts?: number
  /** Times a RATE_LIMITED call is tried again after its Retry-After (at most 60 s). Default 3. */
  rateLimitRetries?: number
}

/** The client: one HTTP channel and one WebSocket (opened when first needed) to the service. */
export interface Approvals {
  /**
   * Wraps `fn` so that each call asks for approval first, and runs `fn` only once it is approved
   * (at once when no rule gates it), exactly once, with the params as approved. Rejected,
   * expired and cancelled requests throw {@link ApprovalRejectedError},
   * {@link ApprovalExpiredError}, {@link ApprovalCancelledError}.
   */
  gate<P = any, R = unknown>(actionType: string, fn: ActionFunction<P, R>, options?: GateOptions<P>): GatedFunction<P, R>
  /**
   * Runs the agent's approved actions in the background with `handlers` (one per action type):
   * those ready now, those approved while it was away, and each as it becomes ready.
   */
  worker(options: WorkerOptions): Worker
  /** Runs an AI reviewer: `decide` is called for each request the service hands to this agent. */
  reviewer(options: ReviewerOptions): Reviewer
  /** Sends any GraphQL query or mutation over HTTP; throws {@link ApprovalsError} on errors. */
  request<T = any>(query: string, variables?: Record<string, unknown>, signal?: AbortSignal): Promise<T>
  /** Closes the WebSocket; waits, workers and reviewers still running stop (their calls fail with CLOSED). */
  close(): Promise<void>
}

/**
 * Creates a client of the approvals service for one agent token.
 *
 * @example
 * ```ts
 * const approvals = createApprovals({ url: 'http://localhost:4000/graphql', token: process.env.APPROVALS_TOKEN })
 * const sendEmail = approvals.gate('send_email', (p) => mailer.send(p), { summary: (p) => `Email ${p.to}` })
 * await sendEmail({ to: 'ceo@client.test', subject: 'Quote', body: '...' })
 * ```
 */
export function createApprovals(options: ApprovalsOptions): Approvals {
  const transport: Transport = createTransport(options)
  const approvals: Approvals = {
    gate: (actionType, fn, gateOptions) => createGate(transport, actionType, fn, gateOptions),
    worker: (workerOptions) => startWorker(transport, workerOptions),
    reviewer: (reviewerOptions) => startReviewer(transport, reviewerOptions),
    request: (query, variables, signal) => transport.request(query, variables, signal),
    close: () => transport.close(),
  }
  registerTransport(approvals, transport)
  return approvals
}
