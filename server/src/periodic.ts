// Background work that runs again and again: the deadline scheduler, the outbox dispatchers, the
// audit sequencer, the revocation sweep, PGlite's ANALYZE. One helper runs them all, so that none
// can starve the event loop or pile up:
//
// - passes never overlap: a timer tick that comes while a pass is under way is skipped, and a
//   wake or runOnce() then queues one pass after it, shared by everyone who asked meanwhile;
// - nothing waits by looping on a promise (`while (p) await p` spins on microtasks once `p` is
//   settled, and then no I/O, timer or signal is ever handled again);
// - a pass takes a bounded batch; when it says it left work behind, the next one runs only after
//   the event loop had its turn (HTTP requests, database replies, signals);
// - a pass that fails is logged and the timer goes on; stop() waits for the pass under way.
import type { Logger } from './logger.js'

/** The timers a periodic task runs on; tests pass their own to tick it by hand. */
export interface Timers {
  setTimeout(callback: () => void, ms: number): unknown
  clearTimeout(handle: unknown): void
}

/** Node's timers, unreferenced: a periodic task never keeps the process alive by itself. */
export const systemTimers: Timers = {
  setTimeout: (callback, ms) => setTimeout(callback, ms).unref(),
  clearTimeout: (handle) => clearTimeout(handle as NodeJS.Timeout),
}

/** Resolves once the event loop has had its turn: the I/O callbacks ready now run before. */
export function yieldToEventLoop(): Promise<void> {
  return new Promise((resolve) => setImmediate(resolve))
}

export interface PeriodicTaskOptions<T> {
  /** What the task is, for its log lines ("deadline scheduler"). */
  name: string
  log: Logger
  /** One pass: a bounded batch of work. */
  pass: () => Promise<T>
  /**
   * Whether the pass left work behind (it took a full batch). After a pass of the timer's or a
   * wake's that did, another follows once the event loop has had its turn; a pass that only
   * runOnce() asked for is not followed (its caller decides).
   */
  more?: (result: T) => boolean
  /** Every `intervalMs` a pass runs, unless one is under way (that tick is skipped); 0: no timer. */
  intervalMs: number
  /** Whether a pass runs at start too (default: when there is a timer). */
  runAtStart?: boolean
  timers?: Timers
}

export interface PeriodicTask<T> {
  /**
   * Runs a pass that starts after this call: at once when none is under way, else right after
   * it (whoever asks meanwhile shares that one). Resolves with its result, or rejects with its error.
   */
  runOnce(): Promise<T>
  /** The pass under way, or else a new one: for callers that any pass already started will do. */
  joinOrRun(): Promise<T>
  /** Asks for a pass soon: now, or once after the pass under way. A failure is logged. Nothing once stopped. */
  wake(): void
  /** Stops the timer and the wakes; resolves once the pass under way, and any a caller waits for, is done. */
  stop(): Promise<void>
}

interface Waiter<T> {
  resolve(result: T): void
  reject(err: unknown): void
}

/**
 * Runs `pass` every `intervalMs` and whenever asked, one pass at a time: a tick that comes while
 * a pass is under way is skipped, a wake or runOnce() queues one pass after it, and a pass that
 * left work behind (`more`) is followed by the next only after the event loop has had its turn,
 * so a backlog is worked off in bounded batches while requests keep being served. A failed pass
 * is logged and the timer goes on; stop() waits for the pass under way.
 */
export function startPeriodicTask<T>(options: PeriodicTaskOptions<T>): PeriodicTask<T> {
  const { name, log, intervalMs } = options
  const timers = options.timers ?? systemTimers

  let stopped = false
  /** The pass under way. */
  let inFlight: Promise<T> | undefined
  /** Whether the drive below runs (it may be between passes). */
  let driving = false
  /** The drive below; settles when it has nothing left to do (it never rejects). */
  let idle: Promise<void> = Promise.resolve()
  /** A pass asked for by the timer, a wake or `more`. */
  let wanted = false
  /** The runOnce() callers waiting for the next pass. */
  let waiting: Waiter<T>[] = []

  const hasWork = () => (wanted && !stopped) || waiting.length > 0

  /** Runs the passes asked for, one after the other, yielding between two. */
  async function drive(): Promise<void> {
    for (let first = true; ; first = false) {
      if (!first && hasWork()) await yieldToEventLoop()
      // checked and claimed in one synchronous step: whoever asks after this starts a new drive
      if (!hasWork()) {
        driving = false
        return
      }
      const automatic = wanted && !stopped
      wanted = false
      const takers = waiting
      waiting = []
      const pass = (async () => options.pass())()
      inFlight = pass
      let result: T
      try {
        result = await pass
      } catch (err) {
        for (const taker of takers) taker.reject(err)
        // the callers of runOnce() have the error; a pass of the timer's or a wake's is logged
        if (automatic) log.error({ err }, `${name} pass failed; the next one tries again`)
        continue
      } finally {
        inFlight = undefined
      }
      for (const taker of takers) taker.resolve(result)
      try {
        if (automatic && !stopped && options.more?.(result)) wanted = true
      } catch (err) {
        log.error({ err }, `${name}: could not tell whether work is left`)
      }
    }
  }

  function kick() {
    if (driving) return
    driving = true
    idle = drive()
  }

  let timer: unknown
  const tick = () => {
    if (stopped) return
    timer = timers.setTimeout(tick, intervalMs)
    // a pass is under way: skip this tick rather than queue behind it
    if (inFlight) return
    wanted = true
    kick()
  }
  if (intervalMs > 0) timer = timers.setTimeout(tick, intervalMs)
  if (options.runAtStart ?? intervalMs > 0) {
    wanted = true
    kick()
  }

  const runOnce = () =>
    new Promise<T>((resolve, reject) => {
      waiting.push({ resolve, reject })
      kick()
    })

  return {
    runOnce,
    joinOrRun: () => inFlight ?? runOnce(),
    wake() {
      if (stopped) return
      wanted = true
      kick()
    },
    async stop() {
      stopped = true
      wanted = false
      if (timer !== undefined) timers.clearTimeout(timer)
      timer = undefined
      await idle
    },
  }
}
