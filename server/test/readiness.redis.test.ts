import { Redis } from 'ioredis'
import { describe, expect, it } from 'vitest'
import { startServer } from './harness.js'

describe('readiness against a real Redis (TEST_REDIS_URL)', () => {
  it('reports ready while Redis answers', async () => {
    const redis = new Redis(process.env.TEST_REDIS_URL!, { enableOfflineQueue: false, maxRetriesPerRequest: 1 })
    await new Promise((resolve, reject) => redis.once('ready', resolve).once('error', reject))
    const server = await startServer({ redis })
    try {
      expect((await fetch(server.url.replace(/\/graphql$/, '/readyz'))).status).toBe(200)
    } finally {
      redis.disconnect()
      await server.destroy()
    }
  })
})
