/** "in 4 min", "in 2 h 5 min", "expired": how long a reviewer has left. */
export function timeLeft(expiresAt: string | null | undefined, now: Date): string | null {
  if (!expiresAt) return null
  const seconds = Math.round((new Date(expiresAt).getTime() - now.getTime()) / 1000)
  if (seconds <= 0) return 'expired'
  if (seconds < 60) return `in ${seconds} s`
  const minutes = Math.floor(seconds / 60)
  if (minutes < 60) return `in ${minutes} min`
  const hours = Math.floor(minutes / 60)
  if (hours < 48) return `in ${hours} h${minutes % 60 ? ` ${minutes % 60} min` : ''}`
  return `in ${Math.floor(hours / 24)} days`
}

export function formatDateTime(value: string | null | undefined): string {
  if (!value) return ''
  return new Date(value).toLocaleString(undefined, { dateStyle: 'medium', timeStyle: 'short' })
}

/** "send_email" -> "Send email". */
export function humanize(key: string): string {
  const words = key.replace(/_/g, ' ').toLowerCase()
  return words.charAt(0).toUpperCase() + words.slice(1)
}

/** The attempt an execution event is about, from its details; null when it names none. */
export function eventAttempt(details: unknown): number | null {
  const attempt = details !== null && typeof details === 'object' ? (details as { attempt?: unknown }).attempt : undefined
  return typeof attempt === 'number' ? attempt : null
}

/** An audit trail event in words: "Approved", "Started (attempt 2)", "Will run again", "Ran", "Failed". */
export function eventLabel(type: string, details?: unknown): string {
  switch (type) {
    case 'EXECUTION_STARTED': {
      const attempt = eventAttempt(details)
      return attempt === null ? 'Started' : `Started (attempt ${attempt})`
    }
    case 'EXECUTION_RETRYING':
      return 'Will run again'
    case 'EXECUTED':
      return 'Ran'
    case 'EXECUTION_FAILED':
      return 'Failed'
    default:
      return humanize(type)
  }
}

/** Where a decision was made, as the history says it ("Approved Rita by email"). */
export function channelLabel(channel: string): string {
  switch (channel) {
    case 'INBOX':
      return 'in the inbox'
    case 'API':
      return 'through the API'
    case 'EMAIL':
      return 'by email'
    case 'SLACK':
      return 'in Slack'
    default:
      return `via ${channel.toLowerCase()}`
  }
}

/** The tab title with the unread count, as mail clients do. */
export function titleWithCount(count: number): string {
  return count > 0 ? `(${count}) Approvals` : 'Approvals'
}

/**
 * What to show of a failed operation: the API's message when it gave one, with the input field it
 * names ("… (nextStages.0.escalateAfterSeconds)"), else the transport's.
 */
export function errorMessage(error: {
  graphQLErrors: readonly { message: string; extensions?: Record<string, unknown> }[]
  message: string
  networkError?: unknown
}): string {
  const first = error.graphQLErrors[0]
  if (first) {
    const field = first.extensions?.field
    return `${first.message}${field ? ` (${String(field).replace(/^input\./, '')})` : ''}`
  }
  return error.networkError ? 'The server cannot be reached. Check your connection and try again.' : error.message
}
