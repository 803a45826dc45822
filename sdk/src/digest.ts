import { randomUUID } from 'node:crypto'
// Digests of params, computed exactly as the server does (RFC 8785 canonical JSON, SHA-256).
import { createHash } from 'node:crypto'
import canonicalizeModule from 'canonicalize'

// canonicalize is CommonJS; under NodeNext its default import may be the module object
const canonicalize = ((canonicalizeModule as unknown as { default?: (input: unknown) => string | undefined }).default ??
  canonicalizeModule) as unknown as (input: unknown) => string | undefined

/**
 * Lowercase hex SHA-256 of the RFC 8785 canonical JSON of `params`: the server's
 * `Execution.paramsDigest`. A worker compares the two before running an approved action.
 */
export function paramsDigest(params: unknown): string {
  return createHash('sha256')
    .update(canonicalize(params) ?? 'null')
    .digest('hex')
}

/**
 * The idempotency key `gate()` sends unless told otherwise: a fresh one per call, so that the
 * call's own retries (a lost response, a rate limit) stay one request, while calling again for
 * the same action asks again (sending the same weekly report twice is two emails). Pass
 * `idempotencyKey` (say, your task's step id) so that a restarted agent finds the request it
 * made before instead of asking anew.
 */
export function defaultIdempotencyKey(): string {
  return `sdk:${randomUUID()}`
}

/** `value` as the JSON the API stores as an execution's result: undefined becomes null. */
export function toJsonResult(value: unknown): unknown {
  if (value === undefined) return null
  const text = JSON.stringify(value)
  return text === undefined ? null : JSON.parse(text)
}
