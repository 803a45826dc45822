// The periodic-task helper every background loop runs on (server/src/periodic.ts): overlapping
// ticks are skipped, asks are queued once, a backlog is worked off in passes with the event loop
// in between, stop() waits for the pass under way, failures are logged and the timer goes on.
// Its timer is ticked by hand here; everything else is real.
import { pino } from 'pino'
import { describe, expect, it } from 'vitest'
import { startPeriodicTask, yieldToEventLoop, type Timers } from '../src/periodic.js'

function deferred<T = void>() {
  let resolve!: (value: T) => void
  const promise = new Promise<T>((r) => (resolve = r))
  return { promise, resolve }
}

/** Timers that fire only when the test says so. */
function handTimers() {
  let armed: (() => void) | undefined
  const timers: Timers = {
    setTimeout(callback) {
      armed = callback
      return callback
    },
    clearTimeout(handle) {
      if (handle === armed) armed = undefined
    },
  }
  return {
    timers,
    /** Fires the armed timer, as the interval passing would. */
    tick() {
      const fire = armed
      armed = undefined
      fire?.()
    },
    get armed() {
      return armed !== undefined
    },
  }
}

/** A logger whose lines the test reads; `errorLogged` resolves at the first error line. */
function capturedLog() {
  const lines: { level: number; msg: string; err?: { message: string } }[] = []
  const logged = deferred()
  const log = pino({ level: 'info' }, {
    write: (line: string) => {
      const entry = JSON.parse(line)
      lines.push(entry)
      if (entry.level >= 50) logged.resolve()
    },
  })
  return { log, lines, errorLogged: logged.promise }
}

/** A real timer of the event loop: resolves only while the loop runs (a spinning waiter starves it). */
const timerFires = () => new Promise<void>((resolve) => setTimeout(resolve, 1))

/** A pass the test holds open: each call starts pass n and waits until the test lets it go. */
function heldPasses() {
  let started = 0
  const releases: (() => void)[] = []
  const startedSignals: ((n: number) => void)[] = []
  return {
    get started() {
      return started
    },
    pass: async () => {
      const n = ++started
      startedSignals.splice(0).forEach((s) => s(n))
      const release = deferred()
      releases.push(release.resolve)
      await release.promise
      return n
    },
    /** Resolves when the next pass starts. */
    nextStart: () => new Promise<number>((resolve) => startedSignals.push(resolve)),
    releaseAll: () => releases.splice(0).forEach((r) => r()),
  }
}

describe('periodic tasks (server/src/periodic.ts)', () => {
  it('skips a tick that comes while a pass is under way, without spinning, and keeps its timer', async () => {
    const clock = handTimers()
    const held = heldPasses()
    const { log } = capturedLog()
    const task = startPeriodicTask({ name: 'test', log, intervalMs: 1000, runAtStart: false, timers: clock.timers, pass: held.pass })
    const first = held.nextStart()
    clock.tick()
    expect(await first).toBe(1)
    // ticks while it is open: skipped, and the event loop goes on meanwhile
    clock.tick()
    clock.tick()
    await timerFires()
    expect(held.started).toBe(1)
    expect(clock.armed).toBe(true)
    held.releaseAll()
    await task.stop()
    // the skipped ticks left nothing queued behind the pass
    expect(held.started).toBe(1)
  })

  it('queues one pass after the one under way for wakes and runOnce(), shared by all who asked', async () => {
    const clock = handTimers()
    const held = heldPasses()
    const { log } = capturedLog()
    const task = startPeriodicTask({ name: 'test', log, intervalMs: 1000, runAtStart: false, timers: clock.timers, pass: held.pass })
    const first = held.nextStart()
    clock.tick()
    await first
    const joined = task.joinOrRun()
    task.wake()
    const asked = [task.runOnce(), task.runOnce(), task.runOnce()]
    task.wake()
    await timerFires()
    expect(held.started).toBe(1)
    const second = held.nextStart()
    held.releaseAll()
    // the caller content with any pass shares the one under way; the others get the one after it
    expect(await joined).toBe(1)
    expect(await second).toBe(2)
    held.releaseAll()
    expect(await Promise.all(asked)).toEqual([2, 2, 2])
    await task.stop()
    expect(held.started).toBe(2)
  })

  it('follows a pass that left work behind with the next one only after the event loop has had its turn', async () => {
    const { log } = capturedLog()
    const marks: string[] = []
    let left = 3
    const done = deferred()
    const task = startPeriodicTask({
      name: 'test',
      log,
      intervalMs: 0,
      pass: async () => {
        marks.push(`pass, ${left} left`)
        // other work of the process, queued while this pass runs
        setImmediate(() => marks.push('other work'))
        left--
        if (left === 0) done.resolve()
        return left
      },
      more: (remaining) => remaining > 0,
    })
    task.wake()
    await done.promise
    await task.stop()
    await yieldToEventLoop()
    expect(marks).toEqual(['pass, 3 left', 'other work', 'pass, 2 left', 'other work', 'pass, 1 left', 'other work'])
  })

  it('runs exactly one pass for runOnce(), even when it left work behind (its caller decides)', async () => {
    const { log } = capturedLog()
    let passes = 0
    const task = startPeriodicTask({ name: 'test', log, intervalMs: 0, pass: async () => ++passes, more: () => true })
    expect(await task.runOnce()).toBe(1)
    await yieldToEventLoop()
    await task.stop()
    expect(passes).toBe(1)
  })

  it('stop() waits for the pass under way, then no tick or wake runs another', async () => {
    const clock = handTimers()
    const held = heldPasses()
    const { log } = capturedLog()
    const first = held.nextStart()
    const task = startPeriodicTask({ name: 'test', log, intervalMs: 1000, timers: clock.timers, pass: held.pass })
    // with a timer, a pass runs at start
    expect(await first).toBe(1)
    let stopped = false
    const stopping = task.stop().then(() => (stopped = true))
    await timerFires()
    expect(stopped).toBe(false)
    expect(clock.armed).toBe(false)
    held.releaseAll()
    await stopping
    expect(stopped).toBe(true)
    task.wake()
    clock.tick()
    await yieldToEventLoop()
    expect(held.started).toBe(1)
  })

  it('logs a failed pass of the timer and goes on; runOnce() hands its failure to its caller', async () => {
    const clock = handTimers()
    const { log, lines, errorLogged } = capturedLog()
    let calls = 0
    const task = startPeriodicTask({
      name: 'test task',
      log,
      intervalMs: 1000,
      runAtStart: false,
      timers: clock.timers,
      pass: async () => {
        if (++calls % 2 === 1) throw new Error(`pass ${calls} refused`)
        return calls
      },
    })
    clock.tick()
    await errorLogged
    expect(lines.filter((l) => l.level >= 50)).toEqual([expect.objectContaining({ msg: 'test task pass failed; the next one tries again', err: expect.objectContaining({ message: 'pass 1 refused' }) })])
    // the timer is still armed, and its next pass goes through
    expect(clock.armed).toBe(true)
    expect(await task.runOnce()).toBe(2)
    await expect(task.runOnce()).rejects.toThrow('pass 3 refused')
    expect(await task.runOnce()).toBe(4)
    await task.stop()
    // the callers had the error: logged once, for the timer's pass only
    expect(lines.filter((l) => l.level >= 50)).toHaveLength(1)
  })
})
