// Approving with an edit: approveRequest(id, comment, params). The edit must satisfy the action
// type's schema and the rule must allow edits; the request keeps what was asked and what was
// approved, an EDITED event holds the JSON Patch between them, and what runs is the edit.
import { createHash } from 'node:crypto'
import canonicalize from 'canonicalize'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { codes, createAgentWithToken, createRule, createUserWithToken, startServer, type TestServer } from './harness.js'

let server: TestServer
let agent: { id: string; token: string }
let rita: { id: string; token: string }

beforeAll(async () => {
  // a small bound on params, so that an edit past it is cheap to send
  server = await startServer({ maxJsonBytes: 4096 })
  agent = await createAgentWithToken(server, { name: 'Mailer' })
  rita = await createUserWithToken(server, { email: 'rita@example.com', name: 'Rita', roleKeys: ['member'] })
  const rule = (module: string, extra: Record<string, unknown> = {}) =>
    createRule(server, { name: module, resourceType: 'AGENT_ACTION', actionType: 'send_email', module, primaryResolver: { type: 'NAMED_USER', userId: rita.id }, ...extra })
  await rule('editable')
  await rule('locked', { allowEdit: false })
})
afterAll(async () => {
  await server?.destroy()
})

const email = { to: 'ceo@client.example', subject: 'Our offer', body: 'We can do it for 90k.' }
async function ask(module: string): Promise<string> {
  const res = await server.gql(
    `mutation($i: RequestApprovalInput!) { requestApproval(input: $i) { request { id } } }`,
    { i: { resourceType: 'AGENT_ACTION', actionType: 'send_email', module, params: email } },
    agent.token,
  )
  if (res.errors) throw new Error(JSON.stringify(res.errors))
  return res.data.requestApproval.request.id
}
const APPROVE = `mutation($id: ID!, $p: JSON, $c: String) { approveRequest(id: $id, params: $p, comment: $c) { status edited params approvedParams } }`
const READ = `query($id: ID!) { approvalRequest(id: $id) { status edited params approvedParams events { type comment details actor { id } } execution { status params paramsDigest } } }`
// as an approval manager reads it (the agent that asked is not shown how it was reviewed: no EDITED event)
const read = async (id: string) => (await server.gql(READ, { id }, server.ownerToken)).data.approvalRequest
const digest = (value: unknown) => createHash('sha256').update((canonicalize as unknown as (v: unknown) => string)(value)).digest('hex')

describe('approving with an edit', () => {
  it('keeps params as asked and approvedParams as approved, records the JSON Patch, and queues the edit to run', async () => {
    const id = await ask('editable')
    const edited = { ...email, body: 'We can do it for 95k.', cc: ['sales@example.com'] }
    const res = await server.gql(APPROVE, { id, p: edited, c: 'Raised the price' }, rita.token)
    expect(res.errors).toBeUndefined()
    expect(res.data.approveRequest).toEqual({ status: 'APPROVED', edited: true, params: email, approvedParams: edited })
    const request = await read(id)
    expect(request.events.map((e: { type: string }) => e.type)).toEqual(['REQUESTED', 'EDITED', 'APPROVED'])
    const editedEvent = request.events[1]
    expect(editedEvent.actor).toEqual({ id: rita.id })
    expect(editedEvent.details).toEqual(
      expect.arrayContaining([
        { op: 'replace', path: '/body', value: 'We can do it for 95k.' },
        { op: 'add', path: '/cc', value: ['sales@example.com'] },
      ]),
    )
    expect(editedEvent.details).toHaveLength(2)
    expect(request.execution).toEqual({ status: 'READY', params: edited, paramsDigest: digest(edited) })
  })

  it('an approval without params, or with the params unchanged, approves them as asked', async () => {
    for (const p of [undefined, email]) {
      const id = await ask('editable')
      const res = await server.gql(APPROVE, { id, p }, rita.token)
      expect(res.data.approveRequest).toEqual({ status: 'APPROVED', edited: false, params: email, approvedParams: email })
      const request = await read(id)
      expect(request.events.map((e: { type: string }) => e.type)).toEqual(['REQUESTED', 'APPROVED'])
      expect(request.execution).toMatchObject({ params: email, paramsDigest: digest(email) })
    }
  })

  it('an edit that breaks the action type\'s schema is BAD_USER_INPUT with the pointer, and nothing changes', async () => {
    const id = await ask('editable')
    const res = await server.gql(APPROVE, { id, p: { ...email, to: 'not an address' } }, rita.token)
    expect(codes(res)).toEqual(['BAD_USER_INPUT'])
    expect(res.errors![0]!.extensions).toMatchObject({ field: 'params', pointer: '/to' })
    const missing = await server.gql(APPROVE, { id, p: { to: email.to } }, rita.token)
    expect(codes(missing)).toEqual(['BAD_USER_INPUT'])
    // an edit is held to the same size bound as the params asked for
    const huge = await server.gql(APPROVE, { id, p: { ...email, body: 'x'.repeat(5000) } }, rita.token)
    expect(codes(huge)).toEqual(['BAD_USER_INPUT'])
    expect(huge.errors![0]!).toMatchObject({ message: expect.stringMatching(/at most 4096 bytes/), extensions: { field: 'params' } })
    expect(await read(id)).toMatchObject({ status: 'PENDING', edited: false, approvedParams: null, events: [{ type: 'REQUESTED' }], execution: null })
  })

  it('a rule with allowEdit false refuses an edit (FORBIDDEN), and still takes a plain approval', async () => {
    const id = await ask('locked')
    expect(codes(await server.gql(APPROVE, { id, p: { ...email, subject: 'Changed' } }, rita.token))).toEqual(['FORBIDDEN'])
    expect((await read(id)).status).toBe('PENDING')
    expect((await server.gql(APPROVE, { id }, rita.token)).data.approveRequest).toMatchObject({ status: 'APPROVED', edited: false })
  })

  it('someone who is not a reviewer learns nothing from an edit: NOT_FOUND, or FORBIDDEN when they may see it', async () => {
    const id = await ask('editable')
    const outsider = await createUserWithToken(server, { email: 'olga@example.com', name: 'Olga', roleKeys: ['member'] })
    expect(codes(await server.gql(APPROVE, { id, p: { broken: true } }, outsider.token))).toEqual(['NOT_FOUND'])
    expect(codes(await server.gql(APPROVE, { id, p: { ...email, subject: 'Mine' } }, server.ownerToken))).toEqual(['FORBIDDEN'])
    expect((await read(id)).status).toBe('PENDING')
  })
})
