import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { codes, createAgentWithToken, createRule, createUserWithToken, decide, getRequest, startServer, type TestServer } from './harness.js'
import { recordMutationTitle } from '../src/approvals/records.js'
import { decodeGlobalID, encodeGlobalID } from '@pothos/plugin-relay'

type Principal = { id: string; token: string }
let server: TestServer
let carol: Principal, owner: Principal, dana: Principal, agent: Principal

// Records are read by their owner, by holders of record:manage (the bootstrap owner) and by
// agents acting for their owner. The agent belongs to dana, a member (so it has no record:manage
// through its owner), and may act for carol and for the records' owner too.
beforeAll(async () => {
  server = await startServer()
  carol = await createUserWithToken(server, { email: 'carol@example.com', name: 'Carol', roleKeys: ['member'] })
  owner = await createUserWithToken(server, { email: 'rec@example.com', name: 'Rec Owner', roleKeys: ['member'] })
  dana = await createUserWithToken(server, { email: 'dana@example.com', name: 'Dana', roleKeys: ['member'] })
  agent = await createAgentWithToken(server, { name: 'CRM agent', ownerId: dana.id })
  const allowed = await server.gql(
    `mutation($id: ID!, $input: UpdateAgentInput!) { updateAgent(id: $id, input: $input) { id } }`,
    { id: agent.id, input: { actsForUserIds: [carol.id, owner.id] } },
    server.ownerToken,
  )
  expect(allowed.errors).toBeUndefined()
  await createRule(server, { name: 'New deals', resourceType: 'RECORD_MUTATION', actionType: 'create_record', module: 'deals', primaryResolver: { type: 'NAMED_USER', userId: carol.id } })
  await createRule(server, { name: 'Deal edits', resourceType: 'RECORD_MUTATION', actionType: 'update_record', module: 'deals', primaryResolver: { type: 'RECORD_OWNER' } })
})
afterAll(() => server?.destroy())

const CREATE = `mutation($input: CreateRecordInput!) { createRecord(input: $input) { record { id module data owner { id } } approvalRequest { id status actionType params module recordId } } }`
const UPDATE = `mutation($id: ID!, $input: UpdateRecordInput!) { updateRecord(id: $id, input: $input) { record { id data } approvalRequest { id status params recordId record { id } } } }`
const READ = `query($id: ID!) { record(id: $id) { data owner { id } } }`
const deals = () => server.db.prisma.record.count({ where: { module: 'deals' } })

describe('records', () => {
  it('run at once without a matching rule, and for people', async () => {
    // a record an agent creates belongs to the person it acts for: its owner by default
    const byAgent = await server.gql(CREATE, { input: { module: 'notes', data: { text: 'hi' } } }, agent.token)
    expect(byAgent.data.createRecord).toMatchObject({ record: { module: 'notes', data: { text: 'hi' }, owner: { id: dana.id } }, approvalRequest: null })
    const byPerson = await server.gql(CREATE, { input: { module: 'deals', data: { name: 'Direct' } } }, carol.token)
    expect(byPerson.data.createRecord).toMatchObject({ record: { module: 'deals', owner: { id: carol.id } }, approvalRequest: null })
    const read = await server.gql(`query($id: ID!) { record(id: $id) { data } }`, { id: byPerson.data.createRecord.record.id }, agent.token)
    expect(read.data.record.data).toEqual({ name: 'Direct' })
  })

  it('a gated createRecord approved with edited data creates the edited record; its owner or module may not be edited', async () => {
    const res = await server.gql(CREATE, { input: { module: 'deals', data: { name: 'Globex', value: 9000 }, ownerId: owner.id } }, agent.token)
    const request = res.data.createRecord.approvalRequest
    const APPROVE = `mutation($id: ID!, $p: JSON) { approveRequest(id: $id, params: $p) { status edited } }`
    const retarget = await server.gql(APPROVE, { id: request.id, p: { ...request.params, ownerId: carol.id } }, carol.token)
    expect(codes(retarget)).toEqual(['BAD_USER_INPUT'])
    expect(retarget.errors![0]!.extensions).toMatchObject({ pointer: '/ownerId' })
    const elsewhere = await server.gql(APPROVE, { id: request.id, p: { ...request.params, module: 'notes' } }, carol.token)
    expect(codes(elsewhere)).toEqual(['BAD_USER_INPUT'])
    const edited = { ...request.params, data: { name: 'Globex', value: 8000 } }
    expect((await server.gql(APPROVE, { id: request.id, p: edited }, carol.token)).data.approveRequest).toEqual({ status: 'APPROVED', edited: true })
    const after = (await getRequest(server, carol.token, request.id)).data.approvalRequest
    expect(after.record).toMatchObject({ data: { name: 'Globex', value: 8000 }, owner: { id: owner.id } })
    expect(after.events.map((e: { type: string }) => e.type)).toEqual(['REQUESTED', 'EDITED', 'APPROVED', 'EXECUTED'])
  })

  it('a gated createRecord runs once after approval, with its original input', async () => {
    const before = await deals()
    const res = await server.gql(CREATE, { input: { module: 'deals', data: { name: 'Acme', value: 5000 }, ownerId: owner.id } }, agent.token)
    expect(res.data.createRecord.record).toBeNull()
    const request = res.data.createRecord.approvalRequest
    expect(request).toMatchObject({ status: 'PENDING', actionType: 'create_record', module: 'deals' })
    expect(request.params).toEqual({ module: 'deals', data: { name: 'Acme', value: 5000 }, ownerId: owner.id })
    expect(await deals()).toBe(before)

    const approved = await decide(server, carol.token, request.id, 'approveRequest')
    expect(approved.data.approveRequest.status).toBe('APPROVED')
    expect(await deals()).toBe(before + 1)
    const after = (await getRequest(server, carol.token, request.id)).data.approvalRequest
    expect(after.record).toMatchObject({ data: { name: 'Acme', value: 5000 }, owner: { id: owner.id } })
    expect(after.recordId).toBe(after.record.id)
    expect(after.events.map((e: { type: string }) => e.type)).toEqual(['REQUESTED', 'APPROVED', 'EXECUTED'])

    // a second approval is refused and runs nothing
    expect(codes(await decide(server, carol.token, request.id, 'approveRequest'))).toEqual(['CONFLICT'])
    expect(await deals()).toBe(before + 1)
  })

  it('a rejected, cancelled or concurrently approved createRecord runs at most once, and never after rejection', async () => {
    const before = await deals()
    const rejected = (await server.gql(CREATE, { input: { module: 'deals', data: { name: 'Nope' } } }, agent.token)).data.createRecord.approvalRequest
    await decide(server, carol.token, rejected.id, 'rejectRequest', 'Not a real lead')
    const cancelled = (await server.gql(CREATE, { input: { module: 'deals', data: { name: 'Never' } } }, agent.token)).data.createRecord.approvalRequest
    await server.gql(`mutation($id: ID!) { cancelApprovalRequest(id: $id) { status } }`, { id: cancelled.id }, agent.token)
    expect(await deals()).toBe(before)

    const raced = (await server.gql(CREATE, { input: { module: 'deals', data: { name: 'Race' } } }, agent.token)).data.createRecord.approvalRequest
    const results = await Promise.all(Array.from({ length: 8 }, () => decide(server, carol.token, raced.id, 'approveRequest')))
    expect(results.filter((r) => !r.errors)).toHaveLength(1)
    expect(await deals()).toBe(before + 1)
  })

  it("a gated updateRecord leaves the record untouched until its owner approves", async () => {
    const created = await server.gql(CREATE, { input: { module: 'deals', data: { stage: 'lead' } } }, owner.token)
    const id = created.data.createRecord.record.id
    const res = await server.gql(UPDATE, { id, input: { data: { stage: 'won' } } }, agent.token)
    const request = res.data.updateRecord.approvalRequest
    expect(request).toMatchObject({ status: 'PENDING', recordId: id, record: { id } })
    // the record's owner reviews it (whom, the requester is not shown: an approval manager reads it)
    expect((await getRequest(server, server.ownerToken, request.id)).data.approvalRequest.reviewers.map((r: { id: string }) => r.id)).toEqual([owner.id])
    expect(request.params).toEqual({ recordId: id, data: { stage: 'won' } })
    expect(res.data.updateRecord.record).toBeNull()
    const read = async () => (await server.gql(READ, { id }, owner.token)).data.record
    expect((await read()).data).toEqual({ stage: 'lead' })

    await decide(server, owner.token, request.id, 'approveRequest')
    expect(await read()).toEqual({ data: { stage: 'won' }, owner: { id: owner.id } })

    const rejectedUpdate = (await server.gql(UPDATE, { id, input: { data: { stage: 'lost' } } }, agent.token)).data.updateRecord.approvalRequest
    await decide(server, owner.token, rejectedUpdate.id, 'rejectRequest')
    expect((await read()).data).toEqual({ stage: 'won' })
  })

  it('updateRecord merges (RFC 7396): fields left out stay, null removes; the request shows each field now and after', async () => {
    const created = await server.gql(CREATE, { input: { module: 'deals', data: { name: 'Initech', stage: 'lead', value: 100, notes: { a: 1, b: 2 } } } }, owner.token)
    const id = created.data.createRecord.record.id
    const read = async () => (await server.gql(READ, { id }, owner.token)).data.record.data
    // at once, for the owner (no rule gates people)
    expect((await server.gql(UPDATE, { id, input: { data: { value: 150 } } }, owner.token)).errors).toBeUndefined()
    expect(await read()).toEqual({ name: 'Initech', stage: 'lead', value: 150, notes: { a: 1, b: 2 } })
    // gated, for the agent: the reviewer sees what changes, field by field
    const change = { stage: 'won', value: null, owner_note: 'signed', notes: { b: null, c: 3 }, name: 'Initech' }
    const res = await server.gql(UPDATE, { id, input: { data: change } }, agent.token)
    const requestId = res.data.updateRecord.approvalRequest.id
    const CHANGES = `query($id: ID!) { approvalRequest(id: $id) { recordChanges { field current proposed change } } }`
    const shown = await server.gql(CHANGES, { id: requestId }, owner.token)
    expect(shown.errors).toBeUndefined()
    // in the order the database keeps the params' fields (jsonb orders keys by itself)
    const byField = (a: { field: string }, b: { field: string }) => a.field.localeCompare(b.field)
    expect([...shown.data.approvalRequest.recordChanges].sort(byField)).toEqual([
      { field: 'stage', current: 'lead', proposed: 'won', change: 'CHANGED' },
      { field: 'value', current: 150, proposed: null, change: 'REMOVED' },
      { field: 'owner_note', current: null, proposed: 'signed', change: 'ADDED' },
      { field: 'notes', current: { a: 1, b: 2 }, proposed: { a: 1, c: 3 }, change: 'CHANGED' },
      { field: 'name', current: 'Initech', proposed: 'Initech', change: 'UNCHANGED' },
    ].sort(byField))
    await decide(server, owner.token, requestId, 'approveRequest')
    expect(await read()).toEqual({ name: 'Initech', stage: 'won', owner_note: 'signed', notes: { a: 1, c: 3 } })
    // the person the agent acted for (its owner, Dana) sees the request; she reads the record, and
    // so its values, while deals are ORG (the default), and neither once they are PRIVATE
    const AS_REQUESTER = `query($id: ID!) { approvalRequest(id: $id) { id record { id } recordChanges { field } } }`
    const asDana = await server.gql(AS_REQUESTER, { id: requestId }, dana.token)
    expect(asDana.errors).toBeUndefined()
    expect(asDana.data.approvalRequest).toMatchObject({ id: requestId, record: { id }, recordChanges: expect.arrayContaining([{ field: 'stage' }]) })
    const VISIBILITY = `mutation($v: RecordVisibility!) { setModuleVisibility(module: "deals", visibility: $v) { visibility } }`
    expect((await server.gql(VISIBILITY, { v: 'PRIVATE' }, server.ownerToken)).errors).toBeUndefined()
    expect((await server.gql(AS_REQUESTER, { id: requestId }, dana.token)).data.approvalRequest).toEqual({ id: requestId, record: null, recordChanges: null })
    expect((await server.gql(VISIBILITY, { v: 'ORG' }, server.ownerToken)).errors).toBeUndefined()
    // someone who may neither read the record nor review the request sees no values
    const outsider = await createUserWithToken(server, { email: 'ned@example.com', name: 'Ned', roleKeys: ['member'] })
    const hidden = await server.gql(CHANGES, { id: requestId }, outsider.token)
    expect(codes(hidden)).toEqual(['NOT_FOUND'])
  })

  it('refuses bad input and unauthenticated callers', async () => {
    expect(codes(await server.gql(CREATE, { input: { module: 'deals', data: {} } }))).toEqual(['UNAUTHENTICATED'])
    expect(codes(await server.gql(CREATE, { input: { module: ' ', data: {} } }, carol.token))).toEqual(['BAD_USER_INPUT'])
    expect(codes(await server.gql(CREATE, { input: { module: 'deals', data: {}, ownerId: 'VXNlcjowMDAwMDAwMC0wMDAwLTAwMDAtMDAwMC0wMDAwMDAwMDAwMDA=' } }, carol.token))).toEqual(['BAD_USER_INPUT'])
    expect(codes(await server.gql(UPDATE, { id: 'UmVjb3JkOjAwMDAwMDAwLTAwMDAtMDAwMC0wMDAwLTAwMDAwMDAwMDAwMA==', input: { data: {} } }, carol.token))).toEqual(['NOT_FOUND'])
    expect(codes(await server.gql(UPDATE, { id: 'UmVjb3JkOjAwMDAwMDAwLTAwMDAtMDAwMC0wMDAwLTAwMDAwMDAwMDAwMA==', input: { data: {} } }))).toEqual(['UNAUTHENTICATED'])
  })
})

describe('what a record mutation is called in the inbox', () => {
  it('names one record of the module, with the right article', () => {
    expect(recordMutationTitle('Update', 'accounts')).toBe('Update an account')
    expect(recordMutationTitle('Create', 'contacts')).toBe('Create a contact')
    expect(recordMutationTitle('Create', 'opportunities')).toBe('Create an opportunity')
    expect(recordMutationTitle('Update', 'addresses')).toBe('Update an address')
    expect(recordMutationTitle('Update', 'crm_deals')).toBe('Update a crm deal')
    expect(recordMutationTitle('Update', 'Users')).toBe('Update a user')
    expect(recordMutationTitle('Create', 'status')).toBe('Create a status')
    expect(recordMutationTitle('Create', 'inventory')).toBe('Create an inventory')
  })
})

// Attacks on a record's data and owner through the fields of a change (issue 23, section 5).
describe('attacks on record data and ownership', () => {
  const APPROVE = `mutation($id: ID!, $p: JSON) { approveRequest(id: $id, params: $p) { status } }`
  const REQUEST = `mutation($i: RequestApprovalInput!) { requestApproval(input: $i) { approvalRequired request { id } } }`
  /** JSON with keys an object literal cannot hold as its own (`__proto__`), as a client sends them. */
  const json = (text: string) => JSON.parse(text) as Record<string, unknown>
  let accounts: string

  beforeAll(async () => {
    await createRule(server, { name: 'Account edits', resourceType: 'RECORD_MUTATION', actionType: 'update_record', module: 'accounts', primaryResolver: { type: 'NAMED_USER', userId: carol.id } })
  })
  const newAccount = async (data: Record<string, unknown>) => {
    const res = await server.gql(CREATE, { input: { module: 'accounts', data } }, owner.token)
    expect(res.errors).toBeUndefined()
    return (accounts = res.data.createRecord.record.id as string)
  }
  const readAccount = async (id = accounts) => (await server.gql(READ, { id }, owner.token)).data.record

  it("a reviewer's edit that adds ownerId: null does not take the record from its owner: BAD_USER_INPUT", async () => {
    const id = await newAccount({ name: 'Hooli' })
    const request = (await server.gql(UPDATE, { id, input: { data: { tier: 'gold' } } }, agent.token)).data.updateRecord.approvalRequest
    expect(request.params).not.toHaveProperty('ownerId')
    const res = await server.gql(APPROVE, { id: request.id, p: { ...request.params, ownerId: null } }, carol.token)
    expect(codes(res)).toEqual(['BAD_USER_INPUT'])
    expect(res.errors![0]!.extensions).toMatchObject({ pointer: '/ownerId' })
    expect(await readAccount(id)).toEqual({ data: { name: 'Hooli' }, owner: { id: owner.id } })
    // the change as asked may still be approved, and leaves the owner alone
    expect((await server.gql(APPROVE, { id: request.id, p: request.params }, carol.token)).data.approveRequest.status).toBe('APPROVED')
    expect(await readAccount(id)).toEqual({ data: { name: 'Hooli', tier: 'gold' }, owner: { id: owner.id } })
  })

  it('a change whose data has a __proto__ key is refused (BAD_USER_INPUT), not applied with the rest of it silently dropped', async () => {
    const id = await newAccount({ stage: 'lead' })
    const res = await server.gql(UPDATE, { id, input: { data: json('{"__proto__": {"polluted": true}, "stage": "won"}') } }, owner.token)
    expect(codes(res)).toEqual(['BAD_USER_INPUT'])
    const nested = await server.gql(UPDATE, { id, input: { data: json('{"notes": {"__proto__": {}, "a": 1}, "stage": "won"}') } }, owner.token)
    expect(codes(nested)).toEqual(['BAD_USER_INPUT'])
    expect((await readAccount(id)).data).toEqual({ stage: 'lead' })
  })

  it('a change whose data has a constructor key is refused (BAD_USER_INPUT), not applied with the rest of it silently dropped', async () => {
    const id = await newAccount({ stage: 'lead' })
    const res = await server.gql(UPDATE, { id, input: { data: { constructor: 'x', stage: 'won' } } }, owner.token)
    expect(codes(res)).toEqual(['BAD_USER_INPUT'])
    expect((await readAccount(id)).data).toEqual({ stage: 'lead' })
  })

  it('a record whose data has a hasOwnProperty key: a change removing another field is applied, not a 500; new ones are refused (BAD_USER_INPUT)', async () => {
    // a row written before these keys were refused
    const { id: dbId } = await server.db.prisma.record.create({ data: { module: 'accounts', ownerId: decodeGlobalID(owner.id).id, data: { hasOwnProperty: 'x', stage: 'lead' } } })
    const id = encodeGlobalID('Record', dbId)
    const res = await server.gql(UPDATE, { id, input: { data: { stage: null } } }, owner.token)
    expect(res.errors).toBeUndefined()
    expect((await readAccount(id)).data).toEqual({ hasOwnProperty: 'x' })
    const created = await server.gql(CREATE, { input: { module: 'accounts', data: { hasOwnProperty: 'x', stage: 'lead' } } }, owner.token)
    expect(codes(created)).toEqual(['BAD_USER_INPUT'])
  })

  it('these keys are refused through requestApproval and in a reviewer\'s edit too, naming where', async () => {
    const id = await newAccount({ stage: 'lead' })
    const asked = await server.gql(REQUEST, { i: { resourceType: 'RECORD_MUTATION', actionType: 'update_record', recordId: id, params: { recordId: id, data: json('{"__proto__": {}, "stage": "won"}') } } }, agent.token)
    expect(codes(asked)).toEqual(['BAD_USER_INPUT'])
    expect(asked.errors![0]!.extensions).toMatchObject({ pointer: '/data/__proto__' })
    const request = (await server.gql(UPDATE, { id, input: { data: { stage: 'won' } } }, agent.token)).data.updateRecord.approvalRequest
    const edited = await server.gql(APPROVE, { id: request.id, p: { ...request.params, data: { stage: 'won', hasOwnProperty: 1 } } }, carol.token)
    expect(codes(edited)).toEqual(['BAD_USER_INPUT'])
    expect(edited.errors![0]!.extensions).toMatchObject({ pointer: '/data/hasOwnProperty' })
    expect((await readAccount(id)).data).toEqual({ stage: 'lead' })
  })

  it("a change to a field named like an object's own methods (toString) shows as added, and is applied", async () => {
    const id = await newAccount({ stage: 'lead' })
    const request = (await server.gql(UPDATE, { id, input: { data: { toString: 'x', valueOf: 2 } } }, agent.token)).data.updateRecord.approvalRequest
    const shown = await server.gql(`query($id: ID!) { approvalRequest(id: $id) { recordChanges { field current proposed change } } }`, { id: request.id }, carol.token)
    expect(shown.errors).toBeUndefined()
    expect(shown.data.approvalRequest.recordChanges).toEqual(expect.arrayContaining([
      { field: 'toString', current: null, proposed: 'x', change: 'ADDED' },
      { field: 'valueOf', current: null, proposed: 2, change: 'ADDED' },
    ]))
    await decide(server, carol.token, request.id, 'approveRequest')
    expect((await readAccount(id)).data).toEqual({ stage: 'lead', toString: 'x', valueOf: 2 })
  })
})
