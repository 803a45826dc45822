import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { hashToken } from '../src/auth/tokens.js'
import { codes, createUserWithToken, startServer, type TestServer } from './harness.js'

let server: TestServer
let admin: { id: string; token: string }
let member: { id: string; token: string }

beforeAll(async () => {
  server = await startServer()
  admin = await createUserWithToken(server, { email: 'ada@example.com', name: 'Ada Admin', roleKeys: ['admin'] })
  member = await createUserWithToken(server, { email: 'mel@example.com', name: 'Mel Member', roleKeys: ['member'] })
})
afterAll(() => server?.destroy())

const VIEWER = `{ viewer { permissions principal { __typename id name ... on User { email roles { key } } } } }`
const CREATE_USER = `mutation($input: CreateUserInput!) { createUser(input: $input) { id name email available roles { key } manager { id } } }`
const UPDATE_USER = `mutation($id: ID!, $input: UpdateUserInput!) { updateUser(id: $id, input: $input) { id name available roles { key } manager { id name } } }`
const USER_COUNT = `{ users { id } }`

async function userCount() {
  return (await server.gql(USER_COUNT, {}, server.ownerToken)).data.users.length as number
}

describe('authentication', () => {
  it('answers viewer for the bootstrap token with the owner and every permission', async () => {
    const res = await server.gql(VIEWER, {}, server.ownerToken)
    expect(res.errors).toBeUndefined()
    expect(res.data.viewer.permissions).toEqual(['approval:manage', 'approval:resolve', 'approval:view', 'directory:manage', 'record:manage'])
    expect(res.data.viewer.principal).toMatchObject({ __typename: 'User', name: 'Olivia Owner', email: 'owner@example.com', roles: [{ key: 'owner' }] })
  })

  it('refuses viewer without a token, with UNAUTHENTICATED', async () => {
    const res = await server.gql(VIEWER)
    expect(codes(res)).toEqual(['UNAUTHENTICATED'])
    expect(res.data).toBeNull()
  })

  it('refuses an unknown or malformed token with UNAUTHENTICATED', async () => {
    expect(codes(await server.gql(VIEWER, {}, 'apv_not-a-real-token'))).toEqual(['UNAUTHENTICATED'])
    const res = await fetch(server.url, {
      method: 'POST',
      headers: { 'content-type': 'application/json', authorization: 'Basic abc' },
      body: JSON.stringify({ query: VIEWER }),
    })
    expect(codes(await res.json())).toEqual(['UNAUTHENTICATED'])
  })

  it('stores tokens only as hashes', async () => {
    const { token } = await createUserWithToken(server, { email: 'hash@example.com', name: 'Hash', roleKeys: ['member'] })
    const rows = await server.db.prisma.apiToken.findMany()
    expect(rows.some((r) => JSON.stringify(r).includes(token))).toBe(false)
    expect(rows.some((r) => r.tokenHash === hashToken(token))).toBe(true)
  })
})

describe('createUser', () => {
  it('is FORBIDDEN to a member and creates nothing', async () => {
    const before = await userCount()
    const res = await server.gql(CREATE_USER, { input: { email: 'x@example.com', name: 'X', roleKeys: ['member'] } }, member.token)
    expect(codes(res)).toEqual(['FORBIDDEN'])
    expect(await userCount()).toBe(before)
  })

  it("works for an admin, and the new user's token works", async () => {
    const res = await server.gql(
      CREATE_USER,
      { input: { email: 'New.Person@Example.com', name: 'New Person', roleKeys: ['member', 'manager'], managerId: admin.id } },
      admin.token,
    )
    expect(res.errors).toBeUndefined()
    expect(res.data.createUser).toMatchObject({
      name: 'New Person',
      email: 'new.person@example.com',
      available: true,
      roles: [{ key: 'manager' }, { key: 'member' }],
      manager: { id: admin.id },
    })
    const issued = await server.gql(
      `mutation($id: ID!) { createApiToken(principalId: $id, name: "laptop") { token apiToken { id name createdAt } } }`,
      { id: res.data.createUser.id },
      admin.token,
    )
    expect(issued.errors).toBeUndefined()
    expect(issued.data.createApiToken.token).toMatch(/^apv_[A-Za-z0-9_-]{43}$/)
    const viewer = await server.gql(VIEWER, {}, issued.data.createApiToken.token)
    expect(viewer.data.viewer.principal).toMatchObject({ id: res.data.createUser.id, name: 'New Person' })
    expect(viewer.data.viewer.permissions).toEqual(['approval:resolve', 'approval:view'])
  })

  it.each([
    ['an unknown role key', { email: 'a1@example.com', name: 'A', roleKeys: ['member', 'wizard'] }, 'input.roleKeys', /wizard/],
    ['a duplicate email', { email: 'MEL@example.com', name: 'A', roleKeys: ['member'] }, 'input.email', /already exists/],
    ['an unknown manager', { email: 'a2@example.com', name: 'A', roleKeys: ['member'], managerId: 'VXNlcjowMDAwMDAwMC0wMDAwLTAwMDAtMDAwMC0wMDAwMDAwMDAwMDA=' }, 'input.managerId', /manager/],
    ['a manager id that is not an ID', { email: 'a3@example.com', name: 'A', roleKeys: ['member'], managerId: 'nonsense' }, 'input.managerId', /ID/],
    ['an invalid email', { email: 'not-an-email', name: 'A', roleKeys: ['member'] }, 'input.email', /email/],
    ['an empty name', { email: 'a4@example.com', name: '  ', roleKeys: ['member'] }, 'input.name', /empty/],
    ['no roles', { email: 'a5@example.com', name: 'A', roleKeys: [] }, 'input.roleKeys', /role/],
  ])('refuses %s with BAD_USER_INPUT and changes nothing', async (_what, input, field, message) => {
    const before = await userCount()
    const res = await server.gql(CREATE_USER, { input }, admin.token)
    expect(codes(res)).toEqual(['BAD_USER_INPUT'])
    expect(res.errors![0]!.message).toMatch(message)
    expect(res.errors![0]!.extensions!.field).toBe(field)
    expect(await userCount()).toBe(before)
  })

  it('does not let an admin create an owner', async () => {
    const res = await server.gql(CREATE_USER, { input: { email: 'o2@example.com', name: 'O2', roleKeys: ['owner'] } }, admin.token)
    expect(codes(res)).toEqual(['FORBIDDEN'])
  })
})

describe('updateUser', () => {
  it('changes roles, manager and availability', async () => {
    const u = await createUserWithToken(server, { email: 'up@example.com', name: 'Up', roleKeys: ['member'] })
    const res = await server.gql(UPDATE_USER, { id: u.id, input: { name: 'Up Dated', roleKeys: ['manager'], managerId: admin.id, available: false } }, admin.token)
    expect(res.errors).toBeUndefined()
    expect(res.data.updateUser).toMatchObject({ name: 'Up Dated', available: false, roles: [{ key: 'manager' }], manager: { id: admin.id, name: 'Ada Admin' } })
    const cleared = await server.gql(UPDATE_USER, { id: u.id, input: { managerId: null } }, admin.token)
    expect(cleared.data.updateUser.manager).toBeNull()
    expect(cleared.data.updateUser.name).toBe('Up Dated')
  })

  it('refuses a manager cycle and changes nothing', async () => {
    const a = await createUserWithToken(server, { email: 'ca@example.com', name: 'Cycle A', roleKeys: ['member'] })
    const b = await createUserWithToken(server, { email: 'cb@example.com', name: 'Cycle B', roleKeys: ['member'], managerId: a.id })
    const c = await createUserWithToken(server, { email: 'cc@example.com', name: 'Cycle C', roleKeys: ['member'], managerId: b.id })
    const res = await server.gql(UPDATE_USER, { id: a.id, input: { managerId: c.id, name: 'Renamed' } }, admin.token)
    expect(codes(res)).toEqual(['BAD_USER_INPUT'])
    expect(res.errors![0]!.message).toMatch(/cycle/)
    const self = await server.gql(UPDATE_USER, { id: a.id, input: { managerId: a.id } }, admin.token)
    expect(codes(self)).toEqual(['BAD_USER_INPUT'])
    const after = await server.gql(`query($id: ID!) { node(id: $id) { ... on User { name manager { id } } } }`, { id: a.id }, admin.token)
    expect(after.data.node).toEqual({ name: 'Cycle A', manager: null })
  })

  it('refuses an unknown role key without changing the user', async () => {
    const res = await server.gql(UPDATE_USER, { id: member.id, input: { roleKeys: ['ghost'], available: false } }, admin.token)
    expect(codes(res)).toEqual(['BAD_USER_INPUT'])
    const after = await server.gql(`query($id: ID!) { node(id: $id) { ... on User { available roles { key } } } }`, { id: member.id }, admin.token)
    expect(after.data.node).toEqual({ available: true, roles: [{ key: 'member' }] })
  })

  it('keeps at least one owner', async () => {
    const owner = await server.gql(`{ viewer { principal { id } } }`, {}, server.ownerToken)
    const res = await server.gql(UPDATE_USER, { id: owner.data.viewer.principal.id, input: { roleKeys: ['member'] } }, server.ownerToken)
    expect(codes(res)).toEqual(['BAD_USER_INPUT'])
    expect((await server.gql(VIEWER, {}, server.ownerToken)).data.viewer.permissions).toContain('directory:manage')
  })

  it('is FORBIDDEN to a member', async () => {
    expect(codes(await server.gql(UPDATE_USER, { id: member.id, input: { roleKeys: ['admin'] } }, member.token))).toEqual(['FORBIDDEN'])
  })
})

describe('setMyAvailability', () => {
  it('lets a user mark themselves unavailable and back', async () => {
    const off = await server.gql(`mutation { setMyAvailability(available: false) { id available } }`, {}, member.token)
    expect(off.data.setMyAvailability).toEqual({ id: member.id, available: false })
    const on = await server.gql(`mutation { setMyAvailability(available: true) { available } }`, {}, member.token)
    expect(on.data.setMyAvailability.available).toBe(true)
  })

  it('needs authentication', async () => {
    expect(codes(await server.gql(`mutation { setMyAvailability(available: false) { id } }`))).toEqual(['UNAUTHENTICATED'])
  })
})

describe('agents', () => {
  it('creates an agent owned by its creator by default, whose token authenticates as the agent', async () => {
    const res = await server.gql(
      `mutation { createAgent(input: { name: "Mailer", description: "Sends the newsletter" }) { id name description owner { id } } }`,
      {},
      admin.token,
    )
    expect(res.errors).toBeUndefined()
    expect(res.data.createAgent).toMatchObject({ name: 'Mailer', description: 'Sends the newsletter', owner: { id: admin.id } })
    const issued = await server.gql(
      `mutation($id: ID!) { createApiToken(principalId: $id, name: "prod") { token } }`,
      { id: res.data.createAgent.id },
      admin.token,
    )
    const agentToken = issued.data.createApiToken.token
    const viewer = await server.gql(VIEWER, {}, agentToken)
    expect(viewer.data.viewer).toEqual({ permissions: ['approval:resolve'], principal: { __typename: 'Agent', id: res.data.createAgent.id, name: 'Mailer' } })
    // an agent is not a user: it has no availability to set
    expect(codes(await server.gql(`mutation { setMyAvailability(available: false) { id } }`, {}, agentToken))).toEqual(['FORBIDDEN'])
    const listed = await server.gql(`{ agents { name owner { name } } }`, {}, member.token)
    expect(listed.data.agents).toContainEqual({ name: 'Mailer', owner: { name: 'Ada Admin' } })
  })

  it('takes an explicit owner, and refuses an unknown one', async () => {
    const ok = await server.gql(`mutation($o: ID!) { createAgent(input: { name: "Poster", ownerId: $o }) { owner { id } } }`, { o: member.id }, admin.token)
    expect(ok.data.createAgent.owner.id).toBe(member.id)
    const bad = await server.gql(
      `mutation { createAgent(input: { name: "Ghost", ownerId: "VXNlcjowMDAwMDAwMC0wMDAwLTAwMDAtMDAwMC0wMDAwMDAwMDAwMDA=" }) { id } }`,
      {},
      admin.token,
    )
    expect(codes(bad)).toEqual(['BAD_USER_INPUT'])
  })

  it('is FORBIDDEN to a member', async () => {
    expect(codes(await server.gql(`mutation { createAgent(input: { name: "Rogue" }) { id } }`, {}, member.token))).toEqual(['FORBIDDEN'])
  })
})

describe('createApiToken', () => {
  it('lets a user issue a token for themselves but not for others', async () => {
    const own = await server.gql(`mutation($id: ID!) { createApiToken(principalId: $id, name: "cli") { token } }`, { id: member.id }, member.token)
    expect(own.errors).toBeUndefined()
    expect((await server.gql(VIEWER, {}, own.data.createApiToken.token)).data.viewer.principal.id).toBe(member.id)
    const other = await server.gql(`mutation($id: ID!) { createApiToken(principalId: $id, name: "steal") { token } }`, { id: admin.id }, member.token)
    expect(codes(other)).toEqual(['FORBIDDEN'])
  })

  it("shows a token's metadata to its user and directory managers only", async () => {
    const own = await server.gql(`mutation($id: ID!) { createApiToken(principalId: $id, name: "phone") { apiToken { id } } }`, { id: member.id }, member.token)
    const tokenId = own.data.createApiToken.apiToken.id
    const NODE = `query($id: ID!) { node(id: $id) { ... on ApiToken { name revokedAt } } }`
    expect((await server.gql(NODE, { id: tokenId }, member.token)).data.node).toEqual({ name: 'phone', revokedAt: null })
    expect((await server.gql(NODE, { id: tokenId }, admin.token)).data.node).toEqual({ name: 'phone', revokedAt: null })
    const stranger = await createUserWithToken(server, { email: 'stranger@example.com', name: 'Stranger', roleKeys: ['member'] })
    expect((await server.gql(NODE, { id: tokenId }, stranger.token)).data.node).toBeNull()
    expect(codes(await server.gql(`mutation($id: ID!) { revokeApiToken(id: $id) { id } }`, { id: tokenId }, stranger.token))).toEqual(['NOT_FOUND'])
  })

  it('refuses a principal id of the wrong type', async () => {
    const roles = await server.gql(`{ roles { id key } }`, {}, admin.token)
    const res = await server.gql(`mutation($id: ID!) { createApiToken(principalId: $id, name: "x") { token } }`, { id: roles.data.roles[0].id }, admin.token)
    expect(codes(res)).toEqual(['BAD_USER_INPUT'])
  })
})

describe('directory queries', () => {
  it('lists the built-in roles with their permissions', async () => {
    const res = await server.gql(`{ roles { key name permissions } }`, {}, member.token)
    expect(res.data.roles).toEqual([
      { key: 'owner', name: 'Owner', permissions: ['approval:manage', 'approval:resolve', 'approval:view', 'directory:manage', 'record:manage'] },
      { key: 'admin', name: 'Admin', permissions: ['approval:manage', 'approval:resolve', 'approval:view', 'directory:manage', 'record:manage'] },
      { key: 'manager', name: 'Manager', permissions: ['approval:resolve', 'approval:view'] },
      { key: 'member', name: 'Member', permissions: ['approval:resolve'] },
    ])
  })

  it('lists users with roles and managers, and resolves nodes by global id', async () => {
    // everyone's roles (and email) are for directory managers; every user sees names and managers
    const res = await server.gql(`{ users { id name roles { key } manager { name } } }`, {}, admin.token)
    expect(res.errors).toBeUndefined()
    expect(res.data.users).toContainEqual({ id: member.id, name: 'Mel Member', roles: [{ key: 'member' }], manager: null })
    const names = await server.gql(`{ users { id name manager { name } } }`, {}, member.token)
    expect(names.errors).toBeUndefined()
    expect(names.data.users.map((u: { name: string }) => u.name)).toEqual(expect.arrayContaining(['Mel Member', 'Ada Admin']))
    const node = await server.gql(`query($id: ID!) { node(id: $id) { __typename ... on User { email } } }`, { id: member.id }, member.token)
    expect(node.data.node).toEqual({ __typename: 'User', email: 'mel@example.com' })
    expect(codes(await server.gql(`{ users { id } }`))).toEqual(['UNAUTHENTICATED'])
  })
})
