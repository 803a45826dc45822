import { describe, expect, it } from 'vitest'
import { eventLabel, humanize, timeLeft, titleWithCount } from './format'

describe('timeLeft', () => {
  const now = new Date('2026-01-01T12:00:00Z')
  const at = (seconds: number) => new Date(now.getTime() + seconds * 1000).toISOString()
  it.each([
    [null, null],
    [at(-5), 'expired'],
    [at(0), 'expired'],
    [at(42), 'in 42 s'],
    [at(5 * 60 + 10), 'in 5 min'],
    [at(2 * 3600 + 5 * 60), 'in 2 h 5 min'],
    [at(3 * 3600), 'in 3 h'],
    [at(72 * 3600), 'in 3 days'],
  ])('%s -> %s', (expiresAt, expected) => {
    expect(timeLeft(expiresAt, now)).toBe(expected)
  })
})

describe('labels', () => {
  it('humanizes keys and counts unread in the title', () => {
    expect(humanize('send_email')).toBe('Send email')
    expect(humanize('EXECUTION_FAILED')).toBe('Execution failed')
    expect(titleWithCount(0)).toBe('Approvals')
    expect(titleWithCount(3)).toBe('(3) Approvals')
  })
})

describe('eventLabel', () => {
  it.each([
    ['REQUESTED', null, 'Requested'],
    ['APPROVED', null, 'Approved'],
    ['EXECUTION_STARTED', { attempt: 1 }, 'Started (attempt 1)'],
    ['EXECUTION_STARTED', null, 'Started'],
    ['EXECUTION_RETRYING', { attempt: 1, error: 'timeout' }, 'Will run again'],
    ['EXECUTED', { messageId: 'm-42' }, 'Ran'],
    ['EXECUTION_FAILED', { attempt: 3, error: 'bounced' }, 'Failed'],
  ])('%s %j -> %s', (type, details, expected) => {
    expect(eventLabel(type, details)).toBe(expected)
  })
})
