import { describe, expect, it } from 'vitest'
import { MAX_DELIVERY_ATTEMPTS, nextAttemptAt, nominalRetryDelayMs } from '../src/outbox/retry-schedule.js'

describe('the delivery retry schedule', () => {
  const now = new Date('2026-01-01T00:00:00Z')

  it('backs off exponentially for about a day, then gives up', () => {
    const waits = Array.from({ length: MAX_DELIVERY_ATTEMPTS - 1 }, (_, i) => nominalRetryDelayMs(i + 1) / 1000)
    expect(waits).toEqual([5, 20, 80, 320, 1280, 5120, 20480, 28800, 28800])
    const hours = waits.reduce((a, b) => a + b, 0) / 3600
    expect(hours).toBeGreaterThan(20)
    expect(hours).toBeLessThan(28)
    expect(nextAttemptAt(MAX_DELIVERY_ATTEMPTS, now)).toBeNull()
  })

  it('spreads retries by a quarter either way', () => {
    const at = (r: number) => nextAttemptAt(2, now, () => r)!.getTime() - now.getTime()
    expect(at(0)).toBe(15_000)
    expect(at(0.5)).toBe(20_000)
    expect(at(0.999999)).toBeCloseTo(25_000, -1)
  })
})
