// The limits hold across instances sharing one Redis (TEST_REDIS_URL): two servers share one
// principal's rate budget, so that spreading calls over instances behind a load balancer gains
// nothing; and a revocation published on one instance closes the sockets open on the other.
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { hashToken } from '../src/auth/tokens.js'
import { createClient } from 'graphql-ws'
import WebSocket from 'ws'
import { codes, createAgentWithToken, startServer, type TestServer } from './harness.js'

let a: TestServer
let b: TestServer

beforeAll(async () => {
  const redisUrl = process.env.TEST_REDIS_URL!
  ;[a, b] = await Promise.all([startServer({ redisUrl, rateLimitPerMinute: 5 }), startServer({ redisUrl, rateLimitPerMinute: 5 })])
})
afterAll(async () => {
  await Promise.all([a?.destroy(), b?.destroy()])
})

const ask = (server: TestServer, token: string, n: number) =>
  server.gql(
    `mutation($input: RequestApprovalInput!) { requestApproval(input: $input) { approvalRequired } }`,
    { input: { resourceType: 'AGENT_ACTION', actionType: 'post_to_social', params: { text: `post ${n}` } } },
    token,
  )

/** An agent created on A, copied with its token into B's database (a shared one in production). */
async function agentOnBoth(name: string) {
  const agent = await createAgentWithToken(a, { name })
  const row = await a.db.prisma.apiToken.findUniqueOrThrow({ where: { tokenHash: hashToken(agent.token) }, include: { agent: true } })
  await b.db.prisma.agent.create({ data: { id: row.agent!.id, name: row.agent!.name } })
  await b.db.prisma.apiToken.create({ data: { id: row.id, name: row.name, tokenHash: row.tokenHash, agentId: row.agent!.id } })
  return { token: agent.token, tokenId: row.id }
}

describe('limits across instances sharing Redis', () => {
  it('refuses the 6th call of a principal when 3 went to one instance and 2 to the other', async () => {
    const agent = await agentOnBoth('Spreader')

    for (let i = 1; i <= 3; i++) expect((await ask(a, agent.token, i)).errors).toBeUndefined()
    for (let i = 4; i <= 5; i++) expect((await ask(b, agent.token, i)).errors).toBeUndefined()
    expect(codes(await ask(b, agent.token, 6))).toEqual(['RATE_LIMITED'])
    expect(codes(await ask(a, agent.token, 7))).toEqual(['RATE_LIMITED'])
  })

  it('closes the sockets on B of a token whose revocation was published on A', async () => {
    const agent = await agentOnBoth('Revoked everywhere')
    let onClose!: (e: { code: number; reason: string }) => void
    const closed = new Promise<{ code: number; reason: string }>((resolve) => (onClose = resolve))
    const client = createClient({
      url: b.wsUrl,
      webSocketImpl: WebSocket,
      lazy: false,
      retryAttempts: 0,
      connectionParams: { authorization: `Bearer ${agent.token}` },
      on: { closed: (e) => onClose({ code: (e as CloseEvent).code, reason: (e as CloseEvent).reason }) },
      onNonLazyError: () => {},
    })
    await new Promise<void>((resolve) => client.on('connected', () => resolve()))
    await a.app.pubsub.publish('accessRevoked', { tokenId: agent.tokenId })
    expect(await closed).toEqual({ code: 4403, reason: 'Forbidden: token revoked' })
    await client.dispose()
  })
})
