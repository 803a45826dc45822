import { describe, expect, it } from 'vitest'
import { durationParts, formatDuration, secondsFrom } from './durations'

describe('durations in the rule editor', () => {
  it('shows seconds in the largest unit they are a whole number of', () => {
    expect(durationParts(86_400)).toEqual({ amount: '1', unit: 'days' })
    expect(durationParts(7200)).toEqual({ amount: '2', unit: 'hours' })
    expect(durationParts(5400)).toEqual({ amount: '90', unit: 'minutes' })
    expect(durationParts(90)).toEqual({ amount: '1.5', unit: 'minutes' })
    expect(durationParts(null)).toEqual({ amount: '', unit: 'hours' })
    expect(durationParts(0, 'minutes')).toEqual({ amount: '0', unit: 'minutes' })
  })

  it('sends whole seconds, and nothing for an empty amount', () => {
    expect(secondsFrom('2', 'hours')).toBe(7200)
    expect(secondsFrom('1.5', 'days')).toBe(129_600)
    expect(secondsFrom('0.5', 'minutes')).toBe(30)
    expect(secondsFrom('', 'hours')).toBeNull()
    expect(secondsFrom('soon', 'hours')).toBeNull()
  })

  it('reads back what it shows', () => {
    for (const s of [60, 3600, 5400, 86_400, 90, 604_800]) {
      const { amount, unit } = durationParts(s)
      expect(secondsFrom(amount, unit)).toBe(s)
    }
  })

  it('says a duration in words', () => {
    expect(formatDuration(86_400)).toBe('1 day')
    expect(formatDuration(7200)).toBe('2 hours')
    expect(formatDuration(60)).toBe('1 minute')
    expect(formatDuration(90)).toBe('90 seconds')
  })
})
