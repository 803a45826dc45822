// Attacks on the HTTP and WebSocket surface, each through a real client against a real server:
// schema discovery in production, clickjacking and injected scripts, cross-site WebSocket
// hijacking, log injection through request ids, and memory exhaustion through huge bodies.
import { request as httpRequest } from 'node:http'
import { mkdtemp, mkdir, rm, writeFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import WebSocket from 'ws'
import { startServer, wsRequest, type TestServer } from './harness.js'

const INTROSPECTION = `{ __schema { queryType { name } } }`
const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/

/** Development defaults, serving an inbox. */
let dev: TestServer
/** Production, no inbox built. */
let prod: TestServer
let prodWithIntrospection: TestServer
/** A listed origin and a small body limit. */
let configured: TestServer
let clientDir: string
const base = (s: TestServer) => s.url.replace(/\/graphql$/, '')

beforeAll(async () => {
  // a stand-in for the built inbox: an index page and one asset
  clientDir = await mkdtemp(join(tmpdir(), 'approvals-security-'))
  await mkdir(join(clientDir, 'assets'))
  await writeFile(join(clientDir, 'index.html'), '<!doctype html><title>Inbox</title><script type="module" src="/assets/app.js"></script>')
  await writeFile(join(clientDir, 'assets', 'app.js'), 'console.log("inbox")')
  ;[dev, prod, prodWithIntrospection, configured] = await Promise.all([
    startServer({ clientDir }),
    startServer({ production: true }),
    startServer({ production: true, introspection: true }),
    startServer({ allowedOrigins: ['https://inbox.example.com'], maxBodyBytes: 64 * 1024 }),
  ])
})
afterAll(async () => {
  await Promise.all([dev, prod, prodWithIntrospection, configured].map((s) => s?.destroy()))
  await rm(clientDir, { recursive: true, force: true })
})

const post = (s: TestServer, body: unknown, headers: Record<string, string> = {}) =>
  fetch(s.url, { method: 'POST', headers: { 'content-type': 'application/json', ...headers }, body: JSON.stringify(body) })

describe('schema discovery (introspection)', () => {
  it('is refused in production, over HTTP and over WebSocket', async () => {
    const res = await (await post(prod, { query: INTROSPECTION })).json()
    expect(res.data ?? null).toBeNull()
    expect(res.errors[0].message).toMatch(/introspection/i)
    const typeQuery = await (await post(prod, { query: `{ __type(name: "Query") { fields { name } } }` })).json()
    expect(typeQuery.errors[0].message).toMatch(/introspection/i)

    const viaWs = await wsRequest(prod.ws(prod.ownerToken), INTROSPECTION).catch((errors) => ({ errors }))
    expect(JSON.stringify(viaWs.errors)).toMatch(/introspection/i)
    expect((viaWs as { data?: unknown }).data ?? null).toBeNull()
    // ordinary queries still work
    expect(await prod.gql(`{ viewer { principal { name } } }`, {}, prod.ownerToken)).toEqual({ data: { viewer: { principal: { name: 'Olivia Owner' } } } })
  })

  it('is allowed in production when the operator turns it on, and outside production', async () => {
    expect(await (await post(prodWithIntrospection, { query: INTROSPECTION })).json()).toEqual({ data: { __schema: { queryType: { name: 'Query' } } } })
    expect(await (await post(dev, { query: INTROSPECTION })).json()).toEqual({ data: { __schema: { queryType: { name: 'Query' } } } })
  })
})

describe('security headers (clickjacking, injected scripts, MIME sniffing, referrer leaks)', () => {
  const expectStrictHeaders = (res: Response) => {
    const csp = res.headers.get('content-security-policy') ?? ''
    expect(csp).toContain("default-src 'self'")
    expect(csp).toContain("script-src 'self';")
    expect(csp).toContain("frame-ancestors 'none'")
    expect(csp).toContain("object-src 'none'")
    expect(csp).toContain("base-uri 'none'")
    expect(csp).not.toMatch(/unsafe-inline|unsafe-eval|unpkg/)
    expect(res.headers.get('x-content-type-options')).toBe('nosniff')
    expect(res.headers.get('referrer-policy')).toBe('no-referrer')
    expect(res.headers.get('x-frame-options')).toBe('DENY')
  }

  it('are on the inbox, its files, the API, its health checks and a 404', async () => {
    const page = await fetch(`${base(dev)}/`)
    expect(page.status).toBe(200)
    expect(await page.text()).toContain('<title>Inbox</title>')
    expectStrictHeaders(page)
    const asset = await fetch(`${base(dev)}/assets/app.js`)
    expect(asset.status).toBe(200)
    expectStrictHeaders(asset)
    const api = await post(dev, { query: '{ __typename }' })
    expect(api.status).toBe(200)
    expectStrictHeaders(api)
    expectStrictHeaders(await fetch(`${base(dev)}/healthz`))
    const apiMissing = await fetch(`${base(dev)}/graphql/nothing-here`)
    expect(apiMissing.status).toBe(404)
    expectStrictHeaders(apiMissing)

    const missing = await fetch(`${base(prod)}/nothing-here`)
    expect(missing.status).toBe(404)
    expectStrictHeaders(missing)
  })

  it('let GraphiQL load outside production only, and keep it unframeable', async () => {
    const graphiql = await fetch(dev.url, { headers: { accept: 'text/html' } })
    expect(await graphiql.text()).toMatch(/graphiql/i)
    const csp = graphiql.headers.get('content-security-policy') ?? ''
    expect(csp).toContain('https://unpkg.com')
    expect(csp).toContain("frame-ancestors 'none'")
    expect(graphiql.headers.get('x-frame-options')).toBe('DENY')

    const noGraphiql = await fetch(prod.url, { headers: { accept: 'text/html' } })
    expect(await noGraphiql.text()).not.toMatch(/graphiql/i)
    expectStrictHeaders(noGraphiql)
  })
})

/** Opens a raw WebSocket upgrade; resolves with 'open' or the HTTP status that refused it. */
function upgrade(url: string, origin?: string): Promise<'open' | number> {
  return new Promise((resolve, reject) => {
    const socket = new WebSocket(url, 'graphql-transport-ws', origin === undefined ? {} : { origin })
    socket.once('open', () => {
      socket.close()
      resolve('open')
    })
    socket.once('unexpected-response', (_req, res) => {
      resolve(res.statusCode ?? 0)
      res.resume()
      socket.terminate()
    })
    socket.once('error', reject)
  })
}

describe('cross-site WebSocket hijacking', () => {
  it('refuses an upgrade from a page on another origin with 403', async () => {
    expect(await upgrade(dev.wsUrl, 'https://evil.example')).toBe(403)
    expect(await upgrade(dev.wsUrl, 'null')).toBe(403)
    // the same host name on another port is another origin
    expect(await upgrade(dev.wsUrl, 'http://127.0.0.1:1')).toBe(403)
  })

  it('accepts the server’s own pages, listed origins, and clients that send no Origin (agents)', async () => {
    const listed = configured
    expect(await upgrade(listed.wsUrl, 'https://inbox.example.com')).toBe('open')
    expect(await upgrade(listed.wsUrl, 'https://other.example.com')).toBe(403)
    expect(await upgrade(dev.wsUrl, base(dev))).toBe('open')
    expect(await upgrade(dev.wsUrl)).toBe('open')
    // and a graphql-ws client without Origin works end to end
    const res = await wsRequest(listed.ws(listed.ownerToken), `{ viewer { principal { name } } }`)
    expect(res.data.viewer.principal.name).toBe('Olivia Owner')
  })
})

describe('cross-site request forgery through forms', () => {
  const mutation = (email: string) => `mutation { createUser(input: { email: "${email}", name: "Forged", roleKeys: ["member"] }) { id } }`
  const created = (email: string) => dev.db.prisma.user.count({ where: { email } })
  const auth = () => ({ authorization: `Bearer ${dev.ownerToken}` })

  it('form-encoded, multipart and other non-JSON POSTs run no mutation: 415, with a message saying to send JSON', async () => {
    const multipart = new FormData()
    multipart.set('operations', JSON.stringify({ query: mutation('multipart@example.com') }))
    multipart.set('map', '{}')
    const attempts: [string, RequestInit][] = [
      ['form@example.com', { headers: { 'content-type': 'application/x-www-form-urlencoded', ...auth() }, body: new URLSearchParams({ query: mutation('form@example.com') }).toString() }],
      // what an HTML form posts, and what fetch sends for a FormData
      ['multipart@example.com', { headers: auth(), body: multipart }],
      ['plain@example.com', { headers: { 'content-type': 'text/plain', ...auth() }, body: JSON.stringify({ query: mutation('plain@example.com') }) }],
      ['graphql@example.com', { headers: { 'content-type': 'application/graphql', ...auth() }, body: mutation('graphql@example.com') }],
      // a form may carry the CSRF header's name in its body, never as a header; with the header, still JSON only
      ['header@example.com', { headers: { 'content-type': 'application/x-www-form-urlencoded', 'x-graphql-yoga-csrf': '1', ...auth() }, body: new URLSearchParams({ query: mutation('header@example.com') }).toString() }],
    ]
    for (const [email, init] of attempts) {
      const res = await fetch(dev.url, { method: 'POST', ...init })
      const body = (await res.json()) as { data?: unknown; errors?: { message: string; extensions?: { code?: string } }[] }
      expect([email, res.status, body.data ?? null]).toEqual([email, 415, null])
      expect(body.errors?.[0]?.message).toMatch(/send JSON \(content-type: application\/json\)/)
      expect(body.errors?.[0]?.extensions?.code).toBe('BAD_USER_INPUT')
      expect(await created(email)).toBe(0)
    }
  })

  it('JSON POSTs still run mutations; GET runs queries (with the CSRF header) and never mutations', async () => {
    const json = await post(dev, { query: mutation('json@example.com') }, auth())
    expect(json.status).toBe(200)
    expect(await created('json@example.com')).toBe(1)
    const graphqlJson = await fetch(dev.url, { method: 'POST', headers: { 'content-type': 'application/graphql+json; charset=utf-8', ...auth() }, body: JSON.stringify({ query: '{ __typename }' }) })
    expect(await graphqlJson.json()).toEqual({ data: { __typename: 'Query' } })

    const get = (query: string, headers: Record<string, string>) => fetch(`${dev.url}?query=${encodeURIComponent(query)}`, { headers: { ...auth(), ...headers } })
    // a plain GET (an <img>, a link) is refused; with the CSRF header a query is served
    expect((await get('{ __typename }', {})).status).toBe(403)
    expect(await (await get('{ __typename }', { 'x-graphql-yoga-csrf': '1' })).json()).toEqual({ data: { __typename: 'Query' } })
    for (const headers of [{ 'x-graphql-yoga-csrf': '1' }, { 'content-type': 'application/json' }, { 'content-type': 'application/x-www-form-urlencoded' }] as Record<string, string>[]) {
      const res = await get(mutation('get@example.com'), headers)
      expect([headers, res.status >= 400]).toEqual([headers, true])
    }
    expect(await created('get@example.com')).toBe(0)
  })
})

describe('log injection through x-request-id', () => {
  const echoedFor = async (id: string) =>
    (await post(dev, { query: '{ __typename }' }, { 'x-request-id': id })).headers.get('x-request-id')

  it('replaces a long or unprintable request id with a fresh one, and keeps a sensible one', async () => {
    expect(await echoedFor('a'.repeat(129))).toMatch(UUID)
    expect(await echoedFor('two words')).toMatch(UUID)
    expect(await echoedFor('<script>alert(1)</script>')).toMatch(UUID)
    expect(await echoedFor('a'.repeat(128))).toBe('a'.repeat(128))
    expect(await echoedFor('client-7:req/42@host=x+y.z')).toBe('client-7:req/42@host=x+y.z')
  })

  it('replaces one with bytes outside printable ASCII (sent raw)', async () => {
    const echoed = await new Promise<string | string[] | undefined>((resolve, reject) => {
      const req = httpRequest(
        `${base(dev)}/healthz`,
        // latin-1 bytes and a tab: legal in an HTTP header, not in a log line we want
        { headers: { 'x-request-id': 'caf\u00e9\tbar' } },
        (res) => {
          res.resume()
          resolve(res.headers['x-request-id'])
        },
      )
      req.once('error', reject)
      req.end()
    })
    expect(echoed).toMatch(UUID)
  })
})

describe('memory exhaustion through huge bodies', () => {
  it('refuses an HTTP body over the limit with 413, by its Content-Length or as it streams', async () => {
    const small = configured
    const padding = 'x'.repeat(100 * 1024)
    const declared = await post(small, { query: '{ __typename }', variables: { padding } })
    expect(declared.status).toBe(413)
    expect((await declared.json()).errors[0].message).toMatch(/too large/i)

    // no Content-Length: chunked, counted as it arrives
    const chunk = new TextEncoder().encode(JSON.stringify({ query: '{ __typename }', variables: { padding } }))
    const streamed = await fetch(small.url, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: new ReadableStream({
        start(controller) {
          controller.enqueue(chunk)
          controller.close()
        },
      }),
      duplex: 'half',
    } as RequestInit)
    expect(streamed.status).toBe(413)

    // an empty body is answered (not left waiting for one)
    const empty = await fetch(small.url, { method: 'POST', headers: { 'content-type': 'application/json' } })
    expect(empty.status).toBeGreaterThanOrEqual(400)
    expect(empty.status).toBeLessThan(500)

    // under the limit, it is served
    const fine = await post(small, { query: '{ __typename }', variables: { padding: 'x'.repeat(32 * 1024) } })
    expect(fine.status).toBe(200)
    expect(await fine.json()).toEqual({ data: { __typename: 'Query' } })
  })

  it('refuses bodies over the default limit of 2 MiB', async () => {
    const res = await post(dev, { query: '{ __typename }', variables: { padding: 'x'.repeat(2 * 1024 * 1024) } })
    expect(res.status).toBe(413)
  })

  it('closes a WebSocket that sends a message over the same limit (1009)', async () => {
    const small = configured
    const closed = new Promise<{ code: number }>((resolve) => {
      const client = small.ws(small.ownerToken, { onClose: resolve })
      wsRequest(client, '{ __typename }', { padding: 'x'.repeat(100 * 1024) }).catch(() => {})
    })
    expect((await closed).code).toBe(1009)
  })
})
