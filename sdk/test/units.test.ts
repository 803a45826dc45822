// The parts that need no server: digests as the server computes them, errors from GraphQL
// responses, and the refusal to run params that do not match their digest.
import { createHash } from 'node:crypto'
import { describe, expect, it } from 'vitest'
import { paramsDigest as serverDigest } from '../../server/src/approvals/executions.js'
import { defaultIdempotencyKey, paramsDigest } from '../src/digest.js'
import { ApprovalIntegrityError, ApprovalsError } from '../src/errors.js'
import { runLease } from '../src/execution.js'
import type { Transport } from '../src/transport.js'

describe('digests', () => {
  it('paramsDigest is the server’s: SHA-256 of the RFC 8785 canonical JSON', () => {
    const params = { to: 'x@corp.test', subject: 'Quote', body: 'Hello', n: [1, 2.5, 1e21], nested: { b: 1, a: 'é' } }
    expect(paramsDigest(params)).toBe(serverDigest(params))
    expect(paramsDigest({ b: 1, a: 2 })).toBe(createHash('sha256').update('{"a":2,"b":1}').digest('hex'))
  })

  it('the default idempotency key is fresh for every call, and fits the API', () => {
    expect(defaultIdempotencyKey()).not.toBe(defaultIdempotencyKey())
    expect(defaultIdempotencyKey().length).toBeLessThanOrEqual(200)
  })
})

describe('ApprovalsError.fromGraphQL', () => {
  it('keeps the code, the pointer and every error', () => {
    const errors = [{ message: 'must match format "email"', extensions: { code: 'BAD_USER_INPUT', field: 'input.params', pointer: '/to' } }]
    const error = ApprovalsError.fromGraphQL(errors)
    expect(error).toMatchObject({ message: 'must match format "email"', code: 'BAD_USER_INPUT', pointer: '/to', field: 'input.params', errors })
    expect(ApprovalsError.fromGraphQL([{ message: 'boom' }]).code).toBe('GRAPHQL_ERROR')
  })
})

describe('runLease', () => {
  it('params that do not match their digest: failed for good, nothing runs, ApprovalIntegrityError', async () => {
    const sent: { query: string; variables: Record<string, unknown> | undefined }[] = []
    const transport = {
      request: async (query: string, variables?: Record<string, unknown>) => (sent.push({ query, variables }), {}),
      closed: new AbortController().signal,
    } as unknown as Transport
    let ran = false
    const lease = {
      leaseToken: 'lease-1',
      attempt: 1,
      leaseExpiresAt: new Date().toISOString(),
      request: {
        id: 'req-1',
        actionType: 'send_email',
        params: { to: 'a@b.test' },
        execution: { params: { to: 'attacker@evil.test' }, paramsDigest: paramsDigest({ to: 'a@b.test' }) },
      },
    }
    await expect(runLease(transport, lease, () => void (ran = true), { leaseSeconds: 60 })).rejects.toBeInstanceOf(ApprovalIntegrityError)
    expect(ran).toBe(false)
    expect(sent).toHaveLength(1)
    expect(sent[0]!.query).toContain('failExecution')
    expect(sent[0]!.variables).toMatchObject({ leaseToken: 'lease-1', retryable: false })
  })
})
