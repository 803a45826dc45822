import { Redis } from 'ioredis'
import { describe, expect, it } from 'vitest'
import { freePort, startServer } from './harness.js'

describe('readiness with Redis configured', () => {
  it('reports not ready while Redis cannot be reached, and alive all the same', async () => {
    const redis = new Redis(`redis://127.0.0.1:${await freePort()}`, { lazyConnect: true, enableOfflineQueue: false, maxRetriesPerRequest: 1 })
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
