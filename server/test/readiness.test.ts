import { createServer } from 'node:net'
import { Redis } from 'ioredis'
import { describe, expect, it } from 'vitest'
import { startServer } from './harness.js'

/** A loopback port with nothing listening on it. */
async function closedPort(): Promise<number> {
  const srv = createServer()
  await new Promise<void>((r) => srv.listen(0, '127.0.0.1', r))
  const { port } = srv.address() as { port: number }
  await new Promise((r) => srv.close(r))
  return port
}

describe('readiness with Redis configured', () => {
  it('reports not ready while Redis cannot be reached, and alive all the same', async () => {
    const redis = new Redis(`redis://127.0.0.1:${await closedPort()}`, { lazyConnect: true, enableOfflineQueue: false, maxRetriesPerRequest: 1 })
    redis.on('error', () => {})
    const server = await startServer({ redis })
    try {
      const base = server.url.replace(/\/graphql$/, '')
      expect((await fetch(`${base}/readyz`)).status).toBe(503)
      expect((await fetch(`${base}/healthz`)).status).toBe(200)
    } finally {
      redis.disconnect()
      await server.destroy()
    }
  })
})
