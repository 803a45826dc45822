import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { codes, startServer, wsRequest, type TestServer } from './harness.js'

let server: TestServer
beforeAll(async () => {
  server = await startServer()
})
afterAll(() => server?.destroy())

const base = () => server.url.replace(/\/graphql$/, '')

describe('HTTP', () => {
  it('reports liveness and readiness', async () => {
    expect((await fetch(`${base()}/healthz`)).status).toBe(200)
    expect((await fetch(`${base()}/readyz`)).status).toBe(200)
  })

  it('echoes a request id, or makes one', async () => {
    const given = await fetch(server.url, {
      method: 'POST',
      headers: { 'content-type': 'application/json', 'x-request-id': 'trace-me-42' },
      body: JSON.stringify({ query: '{ __typename }' }),
    })
    expect(given.headers.get('x-request-id')).toBe('trace-me-42')
    const made = await fetch(server.url, { method: 'POST', headers: { 'content-type': 'application/json' }, body: '{"query":"{ __typename }"}' })
    expect(made.headers.get('x-request-id')).toMatch(/^[0-9a-f-]{36}$/)
  })

  it('refuses requests a browser could forge cross-site (CSRF prevention)', async () => {
    const res = await fetch(`${server.url}?query=${encodeURIComponent('{ __typename }')}`)
    expect(res.status).toBe(403)
  })

  it('refuses queries past the depth limit before running them', async () => {
    const deep = `{ users { manager { manager { manager { manager { manager { manager { manager { manager { manager { manager { manager { manager { id } } } } } } } } } } } } } }`
    const res = await server.gql(deep, {}, server.ownerToken)
    expect(res.errors?.[0]?.message).toMatch(/depth/i)
    expect(res.data ?? null).toBeNull()
  })

  it('refuses too many aliases', async () => {
    const aliases = Array.from({ length: 30 }, (_, i) => `a${i}: roles { key }`).join(' ')
    const res = await server.gql(`{ ${aliases} }`, {}, server.ownerToken)
    expect(res.errors?.[0]?.message).toMatch(/alias/i)
  })
})

describe('WebSocket (graphql-ws on /graphql)', () => {
  it('serves operations to an authenticated client through the same schema', async () => {
    const client = server.ws(server.ownerToken)
    const res = await wsRequest(client, `{ viewer { principal { name } permissions } }`)
    expect(res.data.viewer.principal.name).toBe('Olivia Owner')
  })

  it('closes a connection without a token with 4401', async () => {
    const closed = new Promise<{ code: number }>((resolve) => {
      const client = server.ws(undefined, { onClose: resolve })
      wsRequest(client, '{ __typename }').catch(() => {})
    })
    expect((await closed).code).toBe(4401)
  })

  it('closes a connection with a bad token with 4403', async () => {
    const closed = new Promise<{ code: number }>((resolve) => {
      const client = server.ws('apv_wrong', { onClose: resolve })
      wsRequest(client, '{ __typename }').catch(() => {})
    })
    expect((await closed).code).toBe(4403)
  })

  it('applies the same query limits as HTTP', async () => {
    const client = server.ws(server.ownerToken)
    const aliases = Array.from({ length: 30 }, (_, i) => `a${i}: roles { key }`).join(' ')
    const res = await wsRequest(client, `{ ${aliases} }`).catch((errors) => ({ errors }))
    expect(JSON.stringify(res)).toMatch(/alias/i)
  })

  it('enforces permissions per field, as over HTTP', async () => {
    const client = server.ws(server.ownerToken)
    const res = await wsRequest(client, `mutation { createUser(input: { email: "ws@example.com", name: "Ws", roleKeys: ["member"] }) { email } }`)
    expect(res.data.createUser.email).toBe('ws@example.com')
  })
})

describe('shutdown', () => {
  it('closes open WebSocket connections and stops accepting', async () => {
    const other = await startServer()
    let closed!: Promise<{ code: number }>
    await new Promise<void>((connected) => {
      closed = new Promise((resolve) => {
        const client = other.ws(other.ownerToken, { onClose: resolve, lazy: false })
        client.on('connected', () => connected())
      })
    })
    await other.stop()
    expect((await closed).code).toBe(1001)
    await expect(fetch(other.url, { method: 'POST' })).rejects.toThrow()
    await other.location.drop()
  })
})
