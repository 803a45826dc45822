// The token cache while Redis is down: the events that would invalidate it cannot arrive, so an
// entry serves for 1 s at most (on the server's clock), and a revocation no event announced is
// honoured within that time; once Redis is back the cache starts over. A redis-server of the
// test's own, so that it can be stopped.
import { afterAll, beforeAll, expect, it } from 'vitest'
import { hashToken } from '../src/auth/tokens.js'
import { codes, createUserWithToken, ManualClock, ownRedis, startServer, type TestServer } from './harness.js'

const redis = await ownRedis()
const clock = new ManualClock()
let server: TestServer

beforeAll(async () => {
  await redis.start()
  server = await startServer({ redisUrl: redis.url, clock })
})
afterAll(async () => {
  await server?.destroy()
  if (redis.running()) await redis.stop()
})

/** Resolves once the cache is online (or offline): the Redis client's state, checked every few ms, for 10 s at most. */
async function until(online: boolean) {
  for (const deadline = Date.now() + 10_000; server.app.viewers.online() !== online; ) {
    if (Date.now() > deadline) throw new Error(`the viewer cache did not go ${online ? 'online' : 'offline'}`)
    await new Promise((resolve) => setTimeout(resolve, 5))
  }
}

const VIEWER = `{ viewer { permissions } }`

it('serves an entry for 1 s at most while Redis is down; a revocation no event announced is honoured within it', async () => {
  const user = await createUserWithToken(server, { email: 'offline@example.com', name: 'Offline', roleKeys: ['member'] })
  await until(true)
  expect((await server.gql(VIEWER, {}, user.token)).errors).toBeUndefined()

  await redis.stop()
  await until(false)
  // revoked by another instance whose accessRevoked event this one cannot hear
  await server.db.prisma.apiToken.update({ where: { tokenHash: hashToken(user.token) }, data: { revokedAt: clock.now() } })
  clock.advance(0.5)
  expect((await server.gql(VIEWER, {}, user.token)).errors).toBeUndefined() // the entry is half a second old
  clock.advance(0.6)
  expect(codes(await server.gql(VIEWER, {}, user.token))).toEqual(['UNAUTHENTICATED'])

  // a principal read while offline serves for a second too
  const other = await createUserWithToken(server, { email: 'offline2@example.com', name: 'Offline 2', roleKeys: ['member'] })
  expect((await server.gql(VIEWER, {}, other.token)).errors).toBeUndefined()
  await server.db.prisma.apiToken.update({ where: { tokenHash: hashToken(other.token) }, data: { revokedAt: clock.now() } })
  clock.advance(1.1)
  expect(codes(await server.gql(VIEWER, {}, other.token))).toEqual(['UNAUTHENTICATED'])

  await redis.start()
  await until(true)
})

it('starts over when Redis is back: what changed meanwhile applies at once', async () => {
  const user = await createUserWithToken(server, { email: 'back@example.com', name: 'Back', roleKeys: ['member'] })
  await until(true)
  expect((await server.gql(VIEWER, {}, user.token)).data.viewer.permissions).toEqual(['approval:resolve'])
  await redis.stop()
  await until(false)
  // a role given by another instance, unheard
  await server.db.prisma.user.update({
    where: { id: Buffer.from(user.id, 'base64').toString().split(':')[1]! },
    data: { roles: { connect: { key: 'manager' } } },
  })
  await redis.start()
  await until(true)
  expect((await server.gql(VIEWER, {}, user.token)).data.viewer.permissions.sort()).toEqual(['approval:resolve', 'approval:view'])
})
