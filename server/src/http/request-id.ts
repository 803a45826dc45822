import { randomUUID } from 'node:crypto'

/** What a caller may choose as its request id: short, printable, safe in logs and headers. */
const ACCEPTED_REQUEST_ID = /^[\w.:@/+=-]{1,128}$/

/**
 * The request id to use for a request: the caller's `x-request-id` when it is short and
 * printable, a fresh UUID otherwise, so that a client cannot write control characters or
 * megabytes into every log line about its request.
 */
export function requestIdFor(header: string | string[] | undefined): string {
  return typeof header === 'string' && ACCEPTED_REQUEST_ID.test(header) ? header : randomUUID()
}
