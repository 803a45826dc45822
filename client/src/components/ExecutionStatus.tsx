// How running an approved action goes, in plain words: waiting for the agent, running, done (and
// what came of it), failed, or about to run again. Used by the request detail and the history list.
import { getFragmentData, graphql, type FragmentType } from '../gql'

export const ExecutionFields = graphql(`
  fragment ExecutionFields on Execution {
    status
    attempts
    result
    error
  }
`)

/** How many fields of a result are shown, and how long a value may be, before it is cut short. */
const MAX_FIELDS = 4
const MAX_VALUE = 80

function short(text: string, max = MAX_VALUE): string {
  return text.length > max ? `${text.slice(0, max - 1)}…` : text
}

/** "messageId" / "message_id" -> "message id". */
function words(key: string): string {
  return key
    .replace(/([a-z0-9])([A-Z])/g, '$1 $2')
    .replace(/[_-]+/g, ' ')
    .toLowerCase()
    .trim()
}

function value(v: unknown): string {
  if (v === null || v === undefined) return 'empty'
  return short(typeof v === 'object' ? JSON.stringify(v) : String(v))
}

function isObject(v: unknown): v is Record<string, unknown> {
  return v !== null && typeof v === 'object' && !Array.isArray(v)
}

/**
 * A short rendering of what an action reported on success: "Sent: message id m-42" for a sent
 * message, a server's own message as it is, otherwise the result's fields; null when there is
 * nothing to say.
 */
export function describeResult(result: unknown): string | null {
  if (result === null || result === undefined) return null
  if (!isObject(result)) return value(result)
  const { messageId, ...rest } = result
  // the server's record mutations report one sentence
  if (messageId === undefined && Object.keys(rest).length === 1 && typeof rest.message === 'string') return short(rest.message, 200)
  const entries = Object.entries(rest)
  const fields = entries.slice(0, MAX_FIELDS).map(([k, v]) => `${words(k)} ${value(v)}`)
  if (entries.length > MAX_FIELDS) fields.push(`and ${entries.length - MAX_FIELDS} more`)
  if (messageId !== undefined) return [`Sent: message id ${value(messageId)}`, ...fields].join(', ')
  return fields.length ? fields.join(', ') : null
}

type Execution = { status: string; attempts: number; result?: unknown; error?: string | null }

/** The execution in plain words. */
export function describeExecution(e: Execution): string {
  const because = (error: string | null | undefined) => (error ? `: ${error}` : '')
  switch (e.status) {
    case 'READY':
      return e.attempts > 0 ? `Will run again (attempt ${e.attempts} failed${because(e.error)})` : 'Waiting for the agent to run it'
    case 'RUNNING':
      return `Running (attempt ${Math.max(e.attempts, 1)})`
    case 'SUCCEEDED': {
      const result = describeResult(e.result)
      return result ? `Done · ${result}` : 'Done'
    }
    case 'FAILED':
      return `${e.attempts > 1 ? `Failed ${e.attempts} times` : 'Failed'}${because(e.error)}`
    default:
      return e.status.toLowerCase()
  }
}

/** How running the approved action goes; nothing when there is no execution (not approved). */
export function ExecutionStatus({ execution }: { execution: FragmentType<typeof ExecutionFields> | null | undefined }) {
  const e = getFragmentData(ExecutionFields, execution)
  if (!e) return null
  const again = e.status === 'READY' && e.attempts > 0
  return <span className={`execution ${e.status.toLowerCase()}${again ? ' again' : ''}`}>{describeExecution(e)}</span>
}
