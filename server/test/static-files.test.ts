// The inbox's files as a browser gets them, over real HTTP from a real server serving a real
// production build (vite build, then scripts/compress-client.mjs, as `npm run build` does):
// precompressed brotli and gzip, caching that suits hashed and unhashed files, no source maps.
import { spawnSync } from 'node:child_process'
import { existsSync, readdirSync } from 'node:fs'
import { mkdtemp, readFile, rm } from 'node:fs/promises'
import { request as httpRequest, type IncomingHttpHeaders } from 'node:http'
import { createRequire } from 'node:module'
import { tmpdir } from 'node:os'
import { dirname, join } from 'node:path'
import { brotliDecompressSync, gunzipSync } from 'node:zlib'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { startServer, type TestServer } from './harness.js'

const IMMUTABLE = 'public, max-age=31536000, immutable'
const root = join(import.meta.dirname, '..', '..')

let clientDir: string
let server: TestServer
let base: string
/** The built files under /assets/, by kind. */
let script: string
let stylesheet: string
let sourceMap: string

beforeAll(async () => {
  clientDir = await mkdtemp(join(tmpdir(), 'approvals-static-'))
  // a production build (vitest's NODE_ENV=test would make a development one)
  const vite = join(dirname(createRequire(import.meta.url).resolve('vite/package.json')), 'bin', 'vite.js')
  const built = spawnSync(process.execPath, [vite, 'build', join(root, 'client'), '--outDir', clientDir, '--emptyOutDir', '--logLevel', 'warn'], {
    env: { ...process.env, NODE_ENV: 'production' },
    encoding: 'utf8',
  })
  if (built.status !== 0) throw new Error(`vite build failed:\n${built.stderr}`)
  const compressed = spawnSync(process.execPath, [join(root, 'scripts', 'compress-client.mjs'), clientDir], { encoding: 'utf8' })
  if (compressed.status !== 0) throw new Error(`compress-client failed:\n${compressed.stderr}`)

  const assets = readdirSync(join(clientDir, 'assets'))
  const index = await readFile(join(clientDir, 'index.html'), 'utf8')
  script = index.match(/src="(\/assets\/[^"]+\.js)"/)![1]!
  stylesheet = index.match(/href="(\/assets\/[^"]+\.css)"/)![1]!
  sourceMap = `/assets/${assets.find((name) => name.endsWith('.js.map'))}`
  server = await startServer({ clientDir })
  base = server.url.replace(/\/graphql$/, '')
})
afterAll(async () => {
  await server?.destroy()
  await rm(clientDir, { recursive: true, force: true })
})

interface Answer {
  status: number
  headers: IncomingHttpHeaders
  /** The bytes as sent, still compressed when content-encoding says so. */
  body: Buffer
}

/** A GET through node:http, which (unlike fetch) sends only the headers given and decodes nothing. */
function get(path: string, headers: Record<string, string> = {}): Promise<Answer> {
  return new Promise((resolve, reject) => {
    const req = httpRequest(base + path, { headers }, (res) => {
      const chunks: Buffer[] = []
      res.on('data', (chunk: Buffer) => chunks.push(chunk))
      res.on('end', () => resolve({ status: res.statusCode!, headers: res.headers, body: Buffer.concat(chunks) }))
      res.on('error', reject)
    })
    req.on('error', reject)
    req.end()
  })
}

const onDisk = (path: string) => readFile(join(clientDir, path))

describe('compression', () => {
  it('sends the brotli copy to a browser that accepts br, and it decodes to the file', async () => {
    for (const path of ['/index.html', script, stylesheet]) {
      const res = await get(path, { 'accept-encoding': 'br' })
      expect(res.status, path).toBe(200)
      expect(res.headers['content-encoding'], path).toBe('br')
      expect(res.headers.vary, path).toBe('Accept-Encoding')
      const plain = await onDisk(path)
      expect(res.body.length, path).toBeLessThan(plain.length)
      expect(brotliDecompressSync(res.body).equals(plain), path).toBe(true)
    }
    // the type is the file's, not the copy's
    expect((await get(script, { 'accept-encoding': 'br' })).headers['content-type']).toMatch(/^text\/javascript/)
  })

  it('sends the gzip copy to a browser that accepts only gzip', async () => {
    for (const path of ['/index.html', script, stylesheet]) {
      const res = await get(path, { 'accept-encoding': 'gzip, deflate' })
      expect(res.headers['content-encoding'], path).toBe('gzip')
      const plain = await onDisk(path)
      expect(res.body.length, path).toBeLessThan(plain.length)
      expect(gunzipSync(res.body).equals(plain), path).toBe(true)
    }
  })

  it('prefers brotli when both are accepted, as browsers send it', async () => {
    const res = await get(script, { 'accept-encoding': 'gzip, deflate, br, zstd' })
    expect(res.headers['content-encoding']).toBe('br')
  })

  it('sends the file itself to a client that accepts no encoding', async () => {
    for (const [path, headers] of [
      [script, {}],
      [stylesheet, { 'accept-encoding': 'identity' }],
    ] as const) {
      const res = await get(path, headers)
      expect(res.status, path).toBe(200)
      expect(res.headers['content-encoding'], path).toBeUndefined()
      expect(res.body.equals(await onDisk(path)), path).toBe(true)
    }
  })
})

describe('caching', () => {
  it('lets browsers keep hashed assets for a year without asking again', async () => {
    for (const path of [script, stylesheet]) {
      for (const encoding of ['br', 'gzip', '']) {
        const res = await get(path, { 'accept-encoding': encoding })
        expect(res.status, `${path} ${encoding}`).toBe(200)
        expect(res.headers['cache-control'], `${path} ${encoding}`).toBe(IMMUTABLE)
      }
    }
  })

  it('has index.html revalidated on every load, at / and at its own path', async () => {
    const plain = await onDisk('/index.html')
    for (const path of ['/', '/index.html']) {
      const res = await get(path)
      expect(res.status, path).toBe(200)
      expect(res.headers['content-type'], path).toMatch(/^text\/html/)
      expect(res.headers['cache-control'], path).toBe('no-cache')
      expect(res.body.equals(plain), path).toBe(true)
    }
  })

  it('answers a route of the app with index.html, not cached either', async () => {
    for (const path of ['/inbox/x', '/history?status=APPROVED', '/assets/not-a-file']) {
      const res = await get(path, { 'accept-encoding': 'br' })
      expect(res.status, path).toBe(200)
      expect(res.headers['cache-control'], path).toBe('no-cache')
      expect(brotliDecompressSync(res.body).equals(await onDisk('/index.html')), path).toBe(true)
    }
  })

  it('keeps the cache headers on a 304, so a revalidated copy stays cached as before', async () => {
    for (const [path, cacheControl] of [
      ['/', 'no-cache'],
      [script, IMMUTABLE],
    ]) {
      const first = await get(path!, { 'accept-encoding': 'br' })
      const again = await get(path!, { 'accept-encoding': 'br', 'if-none-match': first.headers.etag! })
      expect(again.status, path).toBe(304)
      expect(again.headers['cache-control'], path).toBe(cacheControl)
    }
  })

  it('does not let a missing asset be cached for a year', async () => {
    const res = await get('/assets/index-missing.js', { 'accept-encoding': 'br' })
    expect(res.status).toBe(404)
    expect(res.headers['cache-control']).toBeUndefined()
  })
})

describe('source maps', () => {
  it('are built for whoever runs the server, but the bundles do not point to them', async () => {
    expect(existsSync(join(clientDir, sourceMap))).toBe(true)
    expect((await onDisk(script)).toString('utf8')).not.toContain('sourceMappingURL')
  })

  it('are not served, however the path is spelled', async () => {
    const encoded = sourceMap.replace(/map$/, '%6Dap')
    for (const path of [sourceMap, `${sourceMap}/`, `${sourceMap}?v=1`, encoded]) {
      for (const encoding of ['br', '']) {
        const res = await get(path, { 'accept-encoding': encoding })
        expect(res.status, `${path} ${encoding}`).toBe(404)
        expect(res.body.toString('utf8'), path).not.toContain('mappings')
      }
    }
  })
})
