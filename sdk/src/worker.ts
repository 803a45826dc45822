// worker(): the durable re-queue. Runs the agent's approved actions as they become ready
// (pushed by the approvedActions subscription), and, on start and after every reconnection,
// those that became ready while it was away (claimApprovedActions).
import { ApprovalsError } from './errors.js'
import { runLease, type ExecutionContext } from './execution.js'
import { requestApproval } from './gate.js'
import { APPROVED_ACTIONS, CLAIM_APPROVED_ACTIONS, CLAIM_EXECUTION, FAIL_EXECUTION, type DecidedRequest, type LeaseData } from './operations.js'
import { backoffMs, isTransient, type Transport } from './transport.js'

/** Runs one approved action; its value becomes the execution's result (JSON; undefined is null). */
export type ActionHandler = (params: any, context: ExecutionContext) => unknown

/** Where an error reported to `onError` happened. */
export interface WorkerErrorContext {
  requestId?: string
  actionType?: string
  attempt?: number
}

/** Options of {@link Approvals.worker}. */
export interface WorkerOptions {
  /** One handler per action type; the worker takes only those action types. */
  handlers: Record<string, ActionHandler>
  /** Handlers running at once. Default 4. */
  concurrency?: number
  /** The lease taken for each attempt, extended every half lease while the handler runs. Default 60. */
  leaseSeconds?: number
  /**
   * Errors that do not stop the worker: a handler that threw (the action is retried), a report
   * that failed, a connection problem. A fatal one (a refused token) also stops the worker.
   * The worker never leaves a promise rejection unhandled.
   */
  onError?: (error: unknown, context: WorkerErrorContext) => void
}

/** Options of {@link Worker.submit}. */
export interface SubmitOptions {
  /**
   * Replaces the default key (a fresh one per call). Submitting again with the same key (a
   * restarted agent going through its plan again, say) returns the same request and asks nothing
   * twice; use a stable key such as `outreach:<lead id>`.
   */
  idempotencyKey?: string
  /** One line for the reviewer. */
  summary?: string
  /** Anything that helps the reviewer decide; shown, not run. */
  context?: unknown
  /** Narrows rule matching to one module. */
  module?: string
  /** The person whose task the agent runs; defaults to the agent's owner. */
  onBehalfOfUserId?: string
  /** Aborts the request for approval (or the handler, when no rule gates the action). */
  signal?: AbortSignal
}

/** What {@link Worker.submit} did with an action. */
export type Submitted =
  /** No rule gates it: the handler ran at once, here; this is its value. */
  | { approvalRequired: false; result: unknown }
  /** A rule gates it: the request as it stands (PENDING, or already decided); the worker runs it once approved. */
  | { approvalRequired: true; request: DecidedRequest }

/** A running worker. */
export interface Worker {
  /**
   * Asks for approval of an action and returns without waiting for the decision: once it is
   * approved (now, in an hour, or while this process was down) the worker runs it with its
   * handler, exactly once. When no rule gates the action, the handler runs at once and its value
   * is returned. For agents that plan many actions and need not stand by each one (campaigns,
   * batch jobs); an agent that needs the answer to go on uses `gate()`.
   */
  submit(actionType: string, params: unknown, options?: SubmitOptions): Promise<Submitted>
  /** Stops taking work, waits for the running handlers to finish and report, then resolves. */
  stop(): Promise<void>
  /** Resolves once the worker has stopped (through stop(), close(), or a fatal error). Never rejects. */
  done: Promise<void>
}

/** @internal */
export function startWorker(transport: Transport, options: WorkerOptions): Worker {
  const { handlers } = options
  const actionTypes = Object.keys(handlers)
  if (actionTypes.length === 0) throw new ApprovalsError('worker() needs at least one handler.', { code: 'BAD_USER_INPUT' })
  const concurrency = Math.max(1, options.concurrency ?? 4)
  const leaseSeconds = options.leaseSeconds ?? 60

  let stopping = false
  let active = 0 // slots taken: claims in flight and handlers running
  const queue: string[] = [] // request ids the subscription said are ready, oldest first
  const running = new Set<string>() // handlers running here
  const claiming = new Set<string>() // claimExecution calls in flight
  const tasks = new Set<Promise<void>>()
  let draining = false
  let drainAgain = false
  let drainWanted = false // a drain stopped for want of a free slot
  let unsubscribe = () => {}
  let retries = 0
  let retryTimer: NodeJS.Timeout | undefined
  let resolveDone!: () => void
  const done = new Promise<void>((resolve) => (resolveDone = resolve))

  const report = (error: unknown, context: WorkerErrorContext = {}) => {
    try {
      options.onError?.(error, context)
    } catch {
      // an onError that throws must not take the worker down
    }
  }
  const track = (task: Promise<void>) => {
    const safe = task.catch((error) => report(error))
    tasks.add(safe)
    void safe.finally(() => tasks.delete(safe))
  }

  async function run(lease: LeaseData): Promise<void> {
    const { id: requestId, actionType } = lease.request
    const context = { requestId, actionType, attempt: lease.attempt }
    const handler = handlers[actionType]
    if (!handler) {
      // not ours after all: hand it back at once
      await transport.request(FAIL_EXECUTION, { leaseToken: lease.leaseToken, error: `No handler for ${actionType}.`, retryable: true }).catch((e) => report(e, context))
      return
    }
    try {
      await runLease(transport, lease, handler, { leaseSeconds, onError: (e) => report(e, context) })
    } catch (error) {
      report(error, context)
    }
  }

  /** Runs a claimed lease in a slot already taken, and frees the slot when it is done. */
  function runClaimed(lease: LeaseData) {
    running.add(lease.request.id)
    track(
      run(lease).finally(() => {
        running.delete(lease.request.id)
        active--
        slotFreed()
      }),
    )
  }

  function slotFreed() {
    if (stopping) return
    pump()
    if (drainWanted && queue.length === 0) drain()
  }

  /** Claims queued actions while slots are free; an action still running here waits its turn. */
  function pump() {
    while (!stopping && active < concurrency) {
      const index = queue.findIndex((id) => !running.has(id) && !claiming.has(id))
      if (index < 0) return
      const [requestId] = queue.splice(index, 1) as [string]
      active++
      claiming.add(requestId)
      track(
        (async () => {
          let lease: LeaseData
          try {
            lease = (await transport.request<{ claimExecution: LeaseData }>(CLAIM_EXECUTION, { requestId, leaseSeconds })).claimExecution
          } catch (error) {
            claiming.delete(requestId)
            active--
            // CONFLICT: another worker took it, or it ran meanwhile (perhaps our own drain did:
            // then it stays in `running`)
            if (!(error instanceof ApprovalsError && error.code === 'CONFLICT')) report(error, { requestId })
            slotFreed()
            return
          }
          claiming.delete(requestId)
          runClaimed(lease) // keeps the slot, gives it back when done
        })(),
      )
    }
  }

  /** Claims what is ready (claimApprovedActions) until nothing is left or no slot is free. */
  function drain() {
    if (stopping) return
    if (draining) {
      drainAgain = true
      return
    }
    draining = true
    track(
      (async () => {
        try {
          do {
            drainAgain = false
            for (;;) {
              const free = concurrency - active
              if (stopping) return
              if (free <= 0) {
                drainWanted = true
                break
              }
              active += free // held while the claim is in flight
              let leases: LeaseData[]
              try {
                leases = (
                  await transport.request<{ claimApprovedActions: LeaseData[] }>(CLAIM_APPROVED_ACTIONS, { limit: free, leaseSeconds, actionTypes })
                ).claimApprovedActions
              } catch (error) {
                active -= free
                report(error)
                return
              }
              active -= free - leases.length
              for (const lease of leases) runClaimed(lease)
              if (leases.length < free) {
                drainWanted = false
                break
              }
            }
          } while (drainAgain && !stopping)
        } finally {
          draining = false
        }
      })(),
    )
  }

  function subscribe() {
    if (stopping) return
    unsubscribe = transport.subscribe<{ approvedActions: { id: string; actionType: string } }>(APPROVED_ACTIONS, { actionTypes }, {
      next: ({ approvedActions }) => {
        retries = 0
        if (!queue.includes(approvedActions.id)) queue.push(approvedActions.id)
        pump()
      },
      error: (error) => {
        if (stopping) return
        if (isTransient(error)) {
          report(error)
          retryTimer = setTimeout(subscribe, backoffMs(retries++))
          return
        }
        if (error.code !== 'CLOSED') report(error)
        void stop()
      },
      // the server ended it (shutting down, say): listen again
      complete: () => {
        if (!stopping) retryTimer = setTimeout(subscribe, backoffMs(retries++))
      },
    })
  }

  const offConnected = transport.onConnected(() => drain())
  const onClosed = () => void stop()
  transport.closed.addEventListener('abort', onClosed, { once: true })

  let stopped: Promise<void> | undefined
  function stop(): Promise<void> {
    stopped ??= (async () => {
      stopping = true
      clearTimeout(retryTimer)
      unsubscribe()
      offConnected()
      transport.closed.removeEventListener('abort', onClosed)
      queue.length = 0
      while (tasks.size) await Promise.all([...tasks])
      resolveDone()
    })()
    return stopped
  }

  async function submit(actionType: string, params: unknown, submitOptions: SubmitOptions = {}): Promise<Submitted> {
    const handler = handlers[actionType]
    if (!handler) throw new ApprovalsError(`This worker has no handler for ${actionType}: it could not run it once approved.`, { code: 'BAD_USER_INPUT' })
    if (stopping) throw new ApprovalsError('This worker is stopped.', { code: 'CLOSED' })
    const { summary, context, signal, ...ask } = submitOptions
    const payload = await requestApproval(transport, actionType, params, { ...ask, summary: summary === undefined ? undefined : () => summary, context: context === undefined ? undefined : () => context }, signal)
    if (payload.approvalRequired && payload.request) return { approvalRequired: true, request: payload.request }
    const result = await handler(params, { requestId: null, attempt: 1, signal: signal ?? new AbortController().signal, edited: false, requestedParams: params })
    return { approvalRequired: false, result }
  }

  drain()
  subscribe()
  return { submit, stop, done }
}
