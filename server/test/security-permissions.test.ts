// Attacks on permissions: an admin making itself owner through tokens, taking records over,
// reading the directory, and probing ids through node(id:).
import { encodeGlobalID } from '@pothos/plugin-relay'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { codes, createAgentWithToken, createRule, createUserWithToken, startServer, type TestServer } from './harness.js'

type Principal = { id: string; token: string }
let server: TestServer
let ownerId: string
let admin: Principal, alice: Principal, bob: Principal, agent: Principal

beforeAll(async () => {
  server = await startServer()
  ownerId = (await server.gql(`{ viewer { principal { id } } }`, {}, server.ownerToken)).data.viewer.principal.id
  admin = await createUserWithToken(server, { email: 'admin@example.com', name: 'Admin', roleKeys: ['admin'] })
  alice = await createUserWithToken(server, { email: 'alice@example.com', name: 'Alice', roleKeys: ['member'] })
  bob = await createUserWithToken(server, { email: 'bob@example.com', name: 'Bob', roleKeys: ['member'] })
  agent = await createAgentWithToken(server, { name: 'Alice bot', ownerId: alice.id })
})
afterAll(() => server?.destroy())

const CREATE_TOKEN = `mutation($id: ID!) { createApiToken(principalId: $id, name: "x") { token apiToken { id } } }`
const REVOKE = `mutation($id: ID!) { revokeApiToken(id: $id) { revokedAt } }`
const tokenCount = () => server.db.prisma.apiToken.count()

describe('an admin cannot become owner', () => {
  it("an admin creating a token for the owner (to grant itself the owner role) is FORBIDDEN and creates nothing", async () => {
    const before = await tokenCount()
    const res = await server.gql(CREATE_TOKEN, { id: ownerId }, admin.token)
    expect(codes(res)).toEqual(['FORBIDDEN'])
    expect(await tokenCount()).toBe(before)
    // and so the escalation it was for cannot happen
    const self = await server.gql(`mutation($id: ID!) { updateUser(id: $id, input: { roleKeys: ["owner"] }) { id } }`, { id: admin.id }, admin.token)
    expect(codes(self)).toEqual(['FORBIDDEN'])
  })

  it("an admin revoking the owner's tokens is FORBIDDEN; the owner may", async () => {
    const ownersToken = await server.gql(CREATE_TOKEN, { id: ownerId }, server.ownerToken)
    const id = ownersToken.data.createApiToken.apiToken.id
    expect(codes(await server.gql(REVOKE, { id }, admin.token))).toEqual(['FORBIDDEN'])
    expect((await server.gql(`{ viewer { permissions } }`, {}, ownersToken.data.createApiToken.token)).errors).toBeUndefined()
    expect((await server.gql(REVOKE, { id }, server.ownerToken)).data.revokeApiToken.revokedAt).not.toBeNull()
  })

  it('nobody creates a token for a principal with more permissions than their own', async () => {
    // an admin may issue tokens for those below it: a member and an agent
    expect((await server.gql(CREATE_TOKEN, { id: alice.id }, admin.token)).errors).toBeUndefined()
    expect((await server.gql(CREATE_TOKEN, { id: agent.id }, admin.token)).errors).toBeUndefined()
    // another admin holds as much as it does: allowed; the owner role is the owner's business only
    const other = await createUserWithToken(server, { email: 'admin2@example.com', name: 'Admin 2', roleKeys: ['admin'] })
    expect((await server.gql(CREATE_TOKEN, { id: other.id }, admin.token)).errors).toBeUndefined()
    // a member cannot issue one for anybody else
    expect(codes(await server.gql(CREATE_TOKEN, { id: bob.id }, alice.token))).toEqual(['FORBIDDEN'])
  })
})

describe('an admin cannot act as the owner through an agent', () => {
  it('naming the owner as an agent\'s owner or one it acts for is FORBIDDEN to an admin, and so is a token for the owner\'s agent', async () => {
    const createAgent = `mutation($input: CreateAgentInput!) { createAgent(input: $input) { id } }`
    expect(codes(await server.gql(createAgent, { input: { name: 'Owner bot', ownerId } }, admin.token))).toEqual(['FORBIDDEN'])
    expect(codes(await server.gql(createAgent, { input: { name: 'For owner', actsForUserIds: [ownerId] } }, admin.token))).toEqual(['FORBIDDEN'])
    const mine = await server.gql(createAgent, { input: { name: 'Admin bot' } }, admin.token)
    const set = `mutation($id: ID!, $users: [ID!]) { updateAgent(id: $id, input: { actsForUserIds: $users }) { id } }`
    expect(codes(await server.gql(set, { id: mine.data.createAgent.id, users: [ownerId] }, admin.token))).toEqual(['FORBIDDEN'])
    // an agent the owner made for themselves stands for the owner: its tokens are the owner's business
    const ownersBot = await server.gql(createAgent, { input: { name: 'Owner own bot' } }, server.ownerToken)
    expect(codes(await server.gql(CREATE_TOKEN, { id: ownersBot.data.createAgent.id }, admin.token))).toEqual(['FORBIDDEN'])
    expect((await server.gql(CREATE_TOKEN, { id: ownersBot.data.createAgent.id }, server.ownerToken)).errors).toBeUndefined()
  })

  it("an admin changing the owner's manager (who would review the owner's requests) is FORBIDDEN", async () => {
    const res = await server.gql(`mutation($id: ID!, $m: ID) { updateUser(id: $id, input: { managerId: $m }) { id } }`, { id: ownerId, m: admin.id }, admin.token)
    expect(codes(res)).toEqual(['FORBIDDEN'])
  })
})

// Records of PRIVATE modules, as every module was before module visibility (record-visibility.test.ts
// has ORG, the default)
describe('records of a private module have owners', () => {
  const CREATE = `mutation($input: CreateRecordInput!) { createRecord(input: $input) { record { id owner { id } } approvalRequest { id params } } }`
  const UPDATE = `mutation($id: ID!, $input: UpdateRecordInput!) { updateRecord(id: $id, input: $input) { record { id data owner { id } } approvalRequest { id params } } }`
  const READ = `query($id: ID!) { record(id: $id) { id data } }`
  let bobsRecord: string

  beforeAll(async () => {
    for (const module of ['deals', 'gated']) {
      const set = await server.gql(`mutation($m: String!) { setModuleVisibility(module: $m, visibility: PRIVATE) { visibility } }`, { m: module }, server.ownerToken)
      expect(set.errors).toBeUndefined()
    }
    bobsRecord = (await server.gql(CREATE, { input: { module: 'deals', data: { name: 'Bob deal' } } }, bob.token)).data.createRecord.record.id
  })

  it("a member reading someone else's record gets null; its owner, record:manage and agents acting for the owner read it", async () => {
    expect((await server.gql(READ, { id: bobsRecord }, alice.token)).data.record).toBeNull()
    expect((await server.gql(READ, { id: bobsRecord }, agent.token)).data.record).toBeNull()
    expect((await server.gql(READ, { id: bobsRecord }, bob.token)).data.record.data).toEqual({ name: 'Bob deal' })
    expect((await server.gql(READ, { id: bobsRecord }, admin.token)).data.record.data).toEqual({ name: 'Bob deal' })
    const bobsBot = await createAgentWithToken(server, { name: 'Bob bot', ownerId: bob.id })
    expect((await server.gql(READ, { id: bobsRecord }, bobsBot.token)).data.record.data).toEqual({ name: 'Bob deal' })
    expect((await server.gql(`query($id: ID!) { node(id: $id) { id } }`, { id: bobsRecord }, alice.token)).data.node).toBeNull()
  })

  it("a member taking over someone else's record with updateRecord(ownerId: me) is refused and nothing changes", async () => {
    const res = await server.gql(UPDATE, { id: bobsRecord, input: { data: { name: 'mine now' }, ownerId: alice.id } }, alice.token)
    expect(codes(res)).toEqual(['NOT_FOUND'])
    const row = await server.gql(`query($id: ID!) { record(id: $id) { data owner { id } } }`, { id: bobsRecord }, bob.token)
    expect(row.data.record).toEqual({ data: { name: 'Bob deal' }, owner: { id: bob.id } })
  })

  it('a member creating a record for someone else is refused; the current owner may hand a record on', async () => {
    expect(codes(await server.gql(CREATE, { input: { module: 'deals', data: {}, ownerId: bob.id } }, alice.token))).toEqual(['FORBIDDEN'])
    const mine = (await server.gql(CREATE, { input: { module: 'deals', data: { n: 1 } } }, alice.token)).data.createRecord.record
    expect(mine.owner.id).toBe(alice.id)
    const handed = await server.gql(UPDATE, { id: mine.id, input: { data: { n: 2 }, ownerId: bob.id } }, alice.token)
    expect(handed.data.updateRecord.record.owner.id).toBe(bob.id)
  })

  it("an agent proposing an owner change has it in the request's params, for the reviewer to see; only the owner's own records", async () => {
    await createRule(server, { name: 'edits', resourceType: 'RECORD_MUTATION', actionType: 'update_record', module: 'gated', primaryResolver: { type: 'NAMED_USER', userId: admin.id } })
    const record = (await server.gql(CREATE, { input: { module: 'gated', data: { v: 1 } } }, alice.token)).data.createRecord.record
    const res = await server.gql(UPDATE, { id: record.id, input: { data: { v: 2 }, ownerId: bob.id } }, agent.token)
    expect(res.errors).toBeUndefined()
    expect(res.data.updateRecord.approvalRequest.params).toEqual({ recordId: record.id, data: { v: 2 }, ownerId: bob.id })
    const requestId = res.data.updateRecord.approvalRequest.id
    const seen = await server.gql(`query($id: ID!) { approvalRequest(id: $id) { proposedOwner { name } record { owner { name } } } }`, { id: requestId }, admin.token)
    expect(seen.data.approvalRequest).toEqual({ proposedOwner: { name: 'Bob' }, record: { owner: { name: 'Alice' } } })
    // once the record is someone else's, the agent no longer reads it through its old request
    const RECORD = `query($id: ID!) { approvalRequest(id: $id) { record { data } } }`
    expect((await server.gql(RECORD, { id: requestId }, agent.token)).data.approvalRequest.record).toEqual({ data: { v: 1 } })
    await server.gql(UPDATE, { id: record.id, input: { data: { v: 1 }, ownerId: bob.id } }, alice.token)
    expect((await server.gql(RECORD, { id: requestId }, agent.token)).data.approvalRequest.record).toBeNull()
    // the agent cannot propose a change to a record its user may not touch
    expect(codes(await server.gql(UPDATE, { id: bobsRecord, input: { data: {} } }, agent.token))).toEqual(['NOT_FOUND'])
    // nor smuggle it through requestApproval
    const direct = await server.gql(
      `mutation($i: RequestApprovalInput!) { requestApproval(input: $i) { approvalRequired } }`,
      { i: { resourceType: 'RECORD_MUTATION', actionType: 'update_record', recordId: bobsRecord, params: { recordId: bobsRecord, data: {}, ownerId: alice.id } } },
      agent.token,
    )
    expect(codes(direct)).toEqual(['BAD_USER_INPUT'])
  })
})

describe('who sees whom', () => {
  it('an agent listing users sees only the people it acts for, and no other agents', async () => {
    const users = await server.gql(`{ users { id email } agents { id } }`, {}, agent.token)
    expect(users.errors).toBeUndefined()
    expect(users.data.users).toEqual([{ id: alice.id, email: 'alice@example.com' }])
    expect(users.data.agents).toEqual([{ id: agent.id }])
    expect((await server.gql(`query($id: ID!) { node(id: $id) { id } }`, { id: bob.id }, agent.token)).data.node).toBeNull()
  })

  it("a member listing everyone's email or roles is FORBIDDEN; names and ids are fine, and their own details", async () => {
    expect(codes(await server.gql(`{ users { id email } }`, {}, alice.token))).toContain('FORBIDDEN')
    expect(codes(await server.gql(`{ users { id roles { key } } }`, {}, alice.token))).toContain('FORBIDDEN')
    const names = await server.gql(`{ users { id name } }`, {}, alice.token)
    expect(names.data.users.map((u: { name: string }) => u.name)).toEqual(expect.arrayContaining(['Alice', 'Bob', 'Admin']))
    const me = await server.gql(`{ viewer { principal { ... on User { email roles { key } } } } }`, {}, alice.token)
    expect(me.data.viewer.principal).toEqual({ email: 'alice@example.com', roles: [{ key: 'member' }] })
    const all = await server.gql(`{ users { email roles { key } } }`, {}, admin.token)
    expect(all.errors).toBeUndefined()
    expect(all.data.users.length).toBeGreaterThanOrEqual(4)
  })
})

describe('an agent cannot walk the org chart', () => {
  it("sees the manager of the people it acts for, and no further", async () => {
    const boss = await createUserWithToken(server, { email: 'boss@example.com', name: 'Boss', roleKeys: ['manager'] })
    const mid = await createUserWithToken(server, { email: 'mid@example.com', name: 'Mid', roleKeys: ['manager'], managerId: boss.id })
    const worker = await createUserWithToken(server, { email: 'worker@example.com', name: 'Worker', roleKeys: ['member'], managerId: mid.id })
    const bot = await createAgentWithToken(server, { name: 'Worker bot', ownerId: worker.id })
    const one = await server.gql(`{ viewer { principal { ... on Agent { owner { manager { name } } } } } }`, {}, bot.token)
    expect(one.data.viewer.principal.owner.manager.name).toBe('Mid')
    const two = await server.gql(`{ viewer { principal { ... on Agent { owner { manager { manager { name } } } } } } }`, {}, bot.token)
    expect(codes(two)).toEqual(['FORBIDDEN'])
    expect(JSON.stringify(two.data)).not.toMatch(/Boss/)
  })
})

describe('node(id:)', () => {
  it('answers null, not an error, for malformed, absent and hidden ids alike', async () => {
    const tokenId = (await server.db.prisma.apiToken.findFirstOrThrow({ where: { userId: { not: null }, user: { email: 'bob@example.com' } } })).id
    const ids = [
      'not an id',
      '',
      encodeGlobalID('Nope', '1'),
      encodeGlobalID('User', 'not-a-uuid'),
      encodeGlobalID('ApprovalRequest', '00000000-0000-7000-8000-000000000000'),
      encodeGlobalID('ApiToken', tokenId),
      encodeGlobalID('ApprovalRule', '00000000-0000-7000-8000-000000000000'),
    ]
    for (const id of ids) {
      const res = await server.gql(`query($id: ID!) { node(id: $id) { id } }`, { id }, alice.token)
      expect(res, id).toEqual({ data: { node: null } })
    }
  })
})

describe('agents can be disabled', () => {
  const UPDATE_AGENT = `mutation($id: ID!, $enabled: Boolean!) { updateAgent(id: $id, input: { enabled: $enabled }) { enabled } }`
  it("a disabled agent's token stops working until it is enabled again; only directory managers may switch it", async () => {
    const bot = await createAgentWithToken(server, { name: 'Switchable', ownerId: alice.id })
    expect(codes(await server.gql(UPDATE_AGENT, { id: bot.id, enabled: false }, bob.token))).toEqual(['FORBIDDEN'])
    expect(codes(await server.gql(UPDATE_AGENT, { id: bot.id, enabled: false }, bot.token))).toEqual(['FORBIDDEN'])
    expect((await server.gql(UPDATE_AGENT, { id: bot.id, enabled: false }, admin.token)).data.updateAgent.enabled).toBe(false)
    expect(codes(await server.gql(`{ viewer { permissions } }`, {}, bot.token))).toEqual(['UNAUTHENTICATED'])
    expect((await server.gql(UPDATE_AGENT, { id: bot.id, enabled: true }, admin.token)).data.updateAgent.enabled).toBe(true)
    expect((await server.gql(`{ viewer { permissions } }`, {}, bot.token)).errors).toBeUndefined()
  })

  it("an agent's owner may disable and enable it, and change nothing else", async () => {
    const bot = await createAgentWithToken(server, { name: 'Runaway', ownerId: alice.id })
    const off = await server.gql(UPDATE_AGENT, { id: bot.id, enabled: false }, alice.token)
    expect(off.data.updateAgent.enabled).toBe(false)
    expect(codes(await server.gql(`{ viewer { permissions } }`, {}, bot.token))).toEqual(['UNAUTHENTICATED'])
    expect((await server.gql(UPDATE_AGENT, { id: bot.id, enabled: true }, alice.token)).data.updateAgent.enabled).toBe(true)
    const rename = await server.gql(`mutation($id: ID!) { updateAgent(id: $id, input: { name: "Mine now" }) { id } }`, { id: bot.id }, alice.token)
    expect(codes(rename)).toEqual(['FORBIDDEN'])
  })

  it('who an agent may act for is kept by directory managers only', async () => {
    const set = `mutation($id: ID!, $users: [ID!]) { updateAgent(id: $id, input: { actsForUserIds: $users }) { id } }`
    expect(codes(await server.gql(set, { id: agent.id, users: [bob.id] }, alice.token))).toEqual(['FORBIDDEN'])
    expect(codes(await server.gql(set, { id: agent.id, users: [bob.id] }, agent.token))).toEqual(['FORBIDDEN'])
  })
})

describe('deadlines are bounded', () => {
  it('an AUTO_APPROVE delay longer than a year is refused, as expiry and escalation are', async () => {
    const input = { name: 'slow', resourceType: 'AGENT_ACTION', actionType: 'send_email', primaryResolver: { type: 'AUTO_APPROVE', delaySeconds: 366 * 24 * 3600 } }
    const res = await server.gql(`mutation($input: ApprovalRuleInput!) { createApprovalRule(input: $input) { id } }`, { input }, admin.token)
    expect(res.errors?.[0]?.extensions).toMatchObject({ code: 'BAD_USER_INPUT', field: 'input.primaryResolver.delaySeconds' })
  })
})
