// When a failed delivery (a webhook, an email, a Slack message) is tried again. Exponential
// backoff with jitter, for about a day: the delay after the n-th failed attempt is
// 5 s × 4^(n-1), at most 8 h, and then ±25 % at random so that the retries of many deliveries
// that failed together (an endpoint that was down) do not all come back at the same instant.
//
//   attempt:        1    2     3     4      5       6       7        8       9      10
//   after a wait:   0    5 s   20 s  80 s   5.3 min 21 min  1.4 h    5.7 h   8 h    8 h
//
// Ten attempts over about 23.6 hours (nominal); after the tenth failure the delivery is FAILED
// and only a redelivery sends it again.

/** How many times a delivery is attempted before it is given up (FAILED). */
export const MAX_DELIVERY_ATTEMPTS = 10

const BASE_DELAY_MS = 5_000
const MAX_DELAY_MS = 8 * 60 * 60 * 1000
const JITTER = 0.25

/** The nominal wait (no jitter) after the `failedAttempts`-th failed attempt, in milliseconds. */
export function nominalRetryDelayMs(failedAttempts: number): number {
  if (failedAttempts < 1) return 0
  return Math.min(BASE_DELAY_MS * 4 ** (failedAttempts - 1), MAX_DELAY_MS)
}

/**
 * When to try again after the `failedAttempts`-th failed attempt (counting from 1), or null when
 * that was the last one. `random` (0 ≤ x < 1) is injected so tests can pin the jitter.
 */
export function nextAttemptAt(failedAttempts: number, now: Date, random: () => number = Math.random): Date | null {
  if (failedAttempts >= MAX_DELIVERY_ATTEMPTS) return null
  const nominal = nominalRetryDelayMs(failedAttempts)
  const jittered = nominal * (1 - JITTER + 2 * JITTER * random())
  return new Date(now.getTime() + Math.round(jittered))
}
