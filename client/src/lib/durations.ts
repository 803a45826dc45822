// Durations as the rule editor shows them (a number and a unit), and as the API takes them (seconds).

export type DurationUnit = 'minutes' | 'hours' | 'days'

export const DURATION_UNITS: { unit: DurationUnit; seconds: number }[] = [
  { unit: 'minutes', seconds: 60 },
  { unit: 'hours', seconds: 3600 },
  { unit: 'days', seconds: 86_400 },
]

const secondsOf = (unit: DurationUnit) => DURATION_UNITS.find((u) => u.unit === unit)!.seconds

/**
 * Seconds as the editor shows them: in the largest unit they are a whole number of (90 s reads
 * as 1.5 minutes). An empty amount for no duration.
 */
export function durationParts(seconds: number | null | undefined, fallbackUnit: DurationUnit = 'hours'): { amount: string; unit: DurationUnit } {
  if (seconds === null || seconds === undefined) return { amount: '', unit: fallbackUnit }
  if (seconds === 0) return { amount: '0', unit: fallbackUnit }
  const whole = [...DURATION_UNITS].reverse().find((u) => seconds % u.seconds === 0)
  if (whole) return { amount: String(seconds / whole.seconds), unit: whole.unit }
  return { amount: String(Math.round((seconds / 60) * 100) / 100), unit: 'minutes' }
}

/** An amount in a unit as whole seconds; null when the amount is empty or not a number. */
export function secondsFrom(amount: string, unit: DurationUnit): number | null {
  if (amount.trim() === '') return null
  const n = Number(amount)
  return Number.isFinite(n) ? Math.round(n * secondsOf(unit)) : null
}

/** "1 day", "2 hours", "90 minutes", "30 seconds": a duration in words, in its largest whole unit. */
export function formatDuration(seconds: number): string {
  if (seconds % 60 !== 0) return plural(seconds, 'second')
  const { amount, unit } = durationParts(seconds)
  return plural(Number(amount), unit.replace(/s$/, ''))
}

const plural = (n: number, word: string) => `${n} ${word}${n === 1 ? '' : 's'}`
