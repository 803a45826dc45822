// The token check is cached (auth/viewer-cache.ts): a warm one costs no SQL, and every change of
// what a principal may do applies at its next request. Across instances: two-instances.pg.redis;
// with Redis down: auth-cache.redis.
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { codes, createAgentWithToken, createUserWithToken, startServer, type TestServer } from './harness.js'
import { hashToken } from '../src/auth/tokens.js'

let server: TestServer
let statements = 0

beforeAll(async () => {
  server = await startServer({ onQuery: () => statements++ })
})
afterAll(async () => {
  await server?.destroy()
})

const VIEWER = `{ viewer { permissions } }`
const HISTORY = `{ approvalHistory(first: 1) { edges { node { id } } } }`

/** SQL statements run by one request. */
async function cost(query: string, token: string) {
  const before = statements
  const res = await server.gql(query, {}, token)
  return { res, statements: statements - before }
}

const tokenGlobalId = async (token: string) => {
  const row = await server.db.prisma.apiToken.findUniqueOrThrow({ where: { tokenHash: hashToken(token) } })
  return Buffer.from(`ApiToken:${row.id}`).toString('base64')
}

describe('the token check, cached', () => {
  it('a warm token check costs no SQL; a cold one a single statement', async () => {
    const user = await createUserWithToken(server, { email: 'warm@example.com', name: 'Warm', roleKeys: ['member'] })
    await server.gql(VIEWER, {}, user.token) // cold: read, and lastUsedAt written
    server.app.viewers.invalidate()
    expect((await cost(VIEWER, user.token)).statements).toBe(1)
    const warm = await cost(VIEWER, user.token)
    expect(warm.res.data.viewer.permissions).toEqual(["approval:resolve"])
    expect(warm.statements).toBe(0)
  })

  it('a revoked token is refused at its next request', async () => {
    const user = await createUserWithToken(server, { email: 'revoked@example.com', name: 'Revoked', roleKeys: ['member'] })
    expect((await server.gql(VIEWER, {}, user.token)).errors).toBeUndefined()
    const revoked = await server.gql(`mutation($id: ID!) { revokeApiToken(id: $id) { revokedAt } }`, { id: await tokenGlobalId(user.token) }, server.ownerToken)
    expect(revoked.errors).toBeUndefined()
    expect(codes(await server.gql(VIEWER, {}, user.token))).toEqual(['UNAUTHENTICATED'])
  })

  it('a role given or taken applies at the next request', async () => {
    const user = await createUserWithToken(server, { email: 'promoted@example.com', name: 'Promoted', roleKeys: ['member'] })
    expect(codes(await server.gql(HISTORY, {}, user.token))).toEqual(['FORBIDDEN'])
    const setRoles = (roleKeys: string[]) =>
      server.gql(`mutation($id: ID!, $r: [String!]) { updateUser(id: $id, input: { roleKeys: $r }) { id } }`, { id: user.id, r: roleKeys }, server.ownerToken)
    expect((await setRoles(['manager'])).errors).toBeUndefined()
    expect((await server.gql(HISTORY, {}, user.token)).errors).toBeUndefined()
    expect((await setRoles(['member'])).errors).toBeUndefined()
    expect(codes(await server.gql(HISTORY, {}, user.token))).toEqual(['FORBIDDEN'])
  })

  it("an agent disabled is refused at once, enabled is let in again; the people it acts for apply at once", async () => {
    const boss = await createUserWithToken(server, { email: 'boss@example.com', name: 'Boss', roleKeys: ['manager'] })
    const person = await createUserWithToken(server, { email: 'person@example.com', name: 'Person', roleKeys: ['member'], managerId: boss.id })
    const agent = await createAgentWithToken(server, { name: 'Cached agent' })
    const agentId = agent.id
    const update = (input: Record<string, unknown>) =>
      server.gql(`mutation($id: ID!, $i: UpdateAgentInput!) { updateAgent(id: $id, input: $i) { id } }`, { id: agentId, i: input }, server.ownerToken)
    expect((await server.gql(VIEWER, {}, agent.token)).errors).toBeUndefined()
    expect((await update({ enabled: false })).errors).toBeUndefined()
    expect(codes(await server.gql(VIEWER, {}, agent.token))).toEqual(['UNAUTHENTICATED'])
    expect((await update({ enabled: true })).errors).toBeUndefined()
    expect((await server.gql(VIEWER, {}, agent.token)).errors).toBeUndefined()

    // an agent sees the people it acts for, and their managers (nobody else): from its cached principal
    const manager = () => server.gql(`query($id: ID!) { node(id: $id) { ... on User { manager { name } } } }`, { id: person.id }, agent.token)
    expect((await manager()).data.node).toBeNull()
    expect((await update({ actsForUserIds: [person.id] })).errors).toBeUndefined()
    expect((await manager()).data.node).toEqual({ manager: { name: 'Boss' } })
    expect((await update({ actsForUserIds: [] })).errors).toBeUndefined()
    expect((await manager()).data.node).toBeNull()
  })
})
