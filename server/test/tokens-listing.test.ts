// Listing API tokens (User.apiTokens, Agent.apiTokens) through the API over HTTP: who sees which
// tokens, that use shows as lastUsedAt, that secrets and hashes never show, and that a revoked
// token leaves the list and stops working.
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { hashToken } from '../src/auth/tokens.js'
import { codes, createAgentWithToken, createUserWithToken, ManualClock, startServer, type TestServer } from './harness.js'

const clock = new ManualClock()
let server: TestServer
let admin: { id: string; token: string }
let mel: { id: string; token: string }
let tom: { id: string; token: string }
let melsAgent: { id: string; token: string }
let tomsAgent: { id: string; token: string }

beforeAll(async () => {
  server = await startServer({ clock })
  admin = await createUserWithToken(server, { email: 'ada@example.com', name: 'Ada Admin', roleKeys: ['admin'] })
  mel = await createUserWithToken(server, { email: 'mel@example.com', name: 'Mel Member', roleKeys: ['member'] })
  tom = await createUserWithToken(server, { email: 'tom@example.com', name: 'Tom Member', roleKeys: ['member'] })
  melsAgent = await createAgentWithToken(server, { name: "Mel's agent", ownerId: mel.id })
  tomsAgent = await createAgentWithToken(server, { name: "Tom's agent", ownerId: tom.id })
})
afterAll(() => server?.destroy())

const TOKEN = `id name createdAt lastUsedAt revokedAt`
const DIRECTORY = `{ users { id name apiTokens { ${TOKEN} } } agents { id name apiTokens { ${TOKEN} } } }`
const NODE_TOKENS = `query($id: ID!) { node(id: $id) { id ... on User { apiTokens { ${TOKEN} } } ... on Agent { apiTokens { ${TOKEN} } } } }`
const WHO = `{ viewer { principal { id } } }`

async function issue(principalId: string, name: string): Promise<{ id: string; token: string }> {
  const res = await server.gql(`mutation($id: ID!, $name: String!) { createApiToken(principalId: $id, name: $name) { token apiToken { id } } }`, { id: principalId, name }, server.ownerToken)
  expect(res.errors).toBeUndefined()
  return { id: res.data.createApiToken.apiToken.id, token: res.data.createApiToken.token }
}

/** The tokens of one principal as a directory manager lists them. */
async function listedBy(token: string, principalId: string) {
  const res = await server.gql(DIRECTORY, {}, token)
  expect(res.errors).toBeUndefined()
  const all = [...res.data.users, ...res.data.agents] as { id: string; apiTokens: { id: string; name: string; lastUsedAt: string | null; revokedAt: string | null }[] }[]
  return all.find((p) => p.id === principalId)!.apiTokens
}

describe('a directory manager', () => {
  it("sees every user's and agent's tokens, newest first, and their use as lastUsedAt", async () => {
    // the creation time orders them: the second token is a minute younger
    clock.advance(60)
    const laptop = await issue(mel.id, 'laptop')
    const before = await listedBy(admin.token, mel.id)
    expect(before.map((t) => [t.id, t.name, t.lastUsedAt, t.revokedAt])).toEqual([
      [laptop.id, 'laptop', null, null],
      [expect.any(String), 'test', null, null],
    ])
    expect((await listedBy(admin.token, melsAgent.id)).map((t) => [t.name, t.lastUsedAt])).toEqual([['test', null]])
    expect((await listedBy(admin.token, tomsAgent.id)).map((t) => t.name)).toEqual(['test'])

    clock.advance(120)
    const usedAt = clock.now().toISOString()
    expect((await server.gql(WHO, {}, laptop.token)).data.viewer.principal.id).toBe(mel.id)
    expect((await server.gql(WHO, {}, melsAgent.token)).data.viewer.principal.id).toBe(melsAgent.id)

    expect((await listedBy(admin.token, mel.id)).map((t) => [t.name, t.lastUsedAt])).toEqual([
      ['laptop', usedAt],
      ['test', null],
    ])
    expect((await listedBy(admin.token, melsAgent.id)).map((t) => t.lastUsedAt)).toEqual([usedAt])
    expect((await listedBy(admin.token, tomsAgent.id)).map((t) => t.lastUsedAt)).toEqual([null])
  })

  it('never sees a secret or its hash: a token shows its name, times and id only', async () => {
    const type = await server.gql(`{ __type(name: "ApiToken") { fields { name } } }`, {}, admin.token)
    expect(type.data.__type.fields.map((f: { name: string }) => f.name).sort()).toEqual(['createdAt', 'id', 'lastUsedAt', 'name', 'revokedAt'])
    const body = JSON.stringify(await server.gql(DIRECTORY, {}, admin.token))
    for (const secret of [mel.token, tom.token, melsAgent.token, tomsAgent.token]) {
      expect(body).not.toContain(secret)
      expect(body).not.toContain(hashToken(secret))
    }
  })
})

describe('a plain member', () => {
  it('sees their own tokens', async () => {
    const res = await server.gql(`{ viewer { principal { ... on User { apiTokens { name } } } } }`, {}, mel.token)
    expect(res.errors).toBeUndefined()
    expect(res.data.viewer.principal.apiTokens.map((t: { name: string }) => t.name)).toEqual(['laptop', 'test'])
    const own = await server.gql(NODE_TOKENS, { id: mel.id }, mel.token)
    expect(own.errors).toBeUndefined()
    expect(own.data.node.apiTokens).toHaveLength(2)
  })

  it("gets FORBIDDEN, and no tokens, for another user's", async () => {
    const res = await server.gql(NODE_TOKENS, { id: tom.id }, mel.token)
    expect(codes(res)).toEqual(['FORBIDDEN'])
    expect(res.errors![0]!.path).toEqual(['node', 'apiTokens'])
    expect(res.data?.node ?? null).toBeNull()
    // listing everyone's asks for others' too: refused
    const all = await server.gql(`{ users { id apiTokens { id } } }`, {}, mel.token)
    expect(codes(all)[0]).toBe('FORBIDDEN')
    expect(JSON.stringify(all.data ?? null)).not.toContain('apiTokens')
  })

  it("sees the tokens of an agent they own, and not another agent's", async () => {
    const owned = await server.gql(NODE_TOKENS, { id: melsAgent.id }, mel.token)
    expect(owned.errors).toBeUndefined()
    expect(owned.data.node.apiTokens.map((t: { name: string }) => t.name)).toEqual(['test'])
    const other = await server.gql(NODE_TOKENS, { id: tomsAgent.id }, mel.token)
    expect(codes(other)).toEqual(['FORBIDDEN'])
    expect(other.data?.node ?? null).toBeNull()
  })

  it('as an agent, does not see its own tokens (its owner and directory managers do)', async () => {
    const res = await server.gql(NODE_TOKENS, { id: melsAgent.id }, melsAgent.token)
    expect(codes(res)).toEqual(['FORBIDDEN'])
  })
})

describe('revokeApiToken', () => {
  it('takes the token off the list and it stops working at once', async () => {
    const phone = await issue(tom.id, 'phone')
    expect((await server.gql(WHO, {}, phone.token)).data.viewer.principal.id).toBe(tom.id)
    expect((await listedBy(admin.token, tom.id)).map((t) => t.name)).toEqual(['phone', 'test'])

    const revoked = await server.gql(`mutation($id: ID!) { revokeApiToken(id: $id) { id name revokedAt } }`, { id: phone.id }, admin.token)
    expect(revoked.errors).toBeUndefined()
    expect(revoked.data.revokeApiToken).toEqual({ id: phone.id, name: 'phone', revokedAt: clock.now().toISOString() })

    expect(codes(await server.gql(WHO, {}, phone.token))).toEqual(['UNAUTHENTICATED'])
    expect((await listedBy(admin.token, tom.id)).map((t) => t.name)).toEqual(['test'])
    // Tom's other token still works
    expect((await server.gql(WHO, {}, tom.token)).data.viewer.principal.id).toBe(tom.id)
  })

  it("an agent's token, revoked by a directory manager, stops working and leaves the list", async () => {
    const listed = await listedBy(admin.token, tomsAgent.id)
    const res = await server.gql(`mutation($id: ID!) { revokeApiToken(id: $id) { id } }`, { id: listed[0]!.id }, admin.token)
    expect(res.errors).toBeUndefined()
    expect(codes(await server.gql(WHO, {}, tomsAgent.token))).toEqual(['UNAUTHENTICATED'])
    expect(await listedBy(admin.token, tomsAgent.id)).toEqual([])
  })
})
