// The service as an operator runs it: a child process configured by environment variables.
import { spawn, type ChildProcess } from 'node:child_process'
import { mkdtemp, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { createInterface } from 'node:readline'
import { afterAll, describe, expect, it } from 'vitest'
import { freshDatabase, type DatabaseLocation } from './harness.js'

const cleanups: (() => Promise<void>)[] = []
afterAll(async () => {
  for (const c of cleanups) await c()
})

function startMain(env: Record<string, string>): Promise<{ child: ChildProcess; port: number; lines: string[] }> {
  const child = spawn(process.execPath, ['--import', 'tsx', 'server/src/main.ts'], {
    env: { ...process.env, NODE_ENV: 'production', LOG_LEVEL: 'info', ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  })
  const lines: string[] = []
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error('server did not start:\n' + lines.join('\n'))), 45_000)
    createInterface({ input: child.stderr! }).on('line', (l) => lines.push(l))
    createInterface({ input: child.stdout! }).on('line', (line) => {
      lines.push(line)
      const entry = JSON.parse(line) as { msg: string; port?: number }
      if (entry.msg === 'approvals listening') {
        clearTimeout(timer)
        resolve({ child, port: entry.port!, lines })
      }
    })
    child.once('exit', (code) => {
      clearTimeout(timer)
      reject(new Error(`server exited with ${code}:\n${lines.join('\n')}`))
    })
  })
}

const exited = (child: ChildProcess) => new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)))

describe('main', () => {
  it('starts from environment variables, serves /graphql, logs each request as JSON with its id, and stops cleanly on SIGTERM', async () => {
    let location: DatabaseLocation
    let env: Record<string, string>
    if (process.env.TEST_DATABASE_URL) {
      location = await freshDatabase()
      env = { DATABASE_URL: (location as { url: string }).url }
    } else {
      const dataDir = await mkdtemp(join(tmpdir(), 'approvals-main-'))
      location = await freshDatabase(dataDir)
      cleanups.push(() => rm(dataDir, { recursive: true, force: true }))
      env = { APPROVALS_DATA_DIR: dataDir }
    }
    cleanups.push(() => location.drop())
    const { child, port, lines } = await startMain({ ...env, PORT: '0', HOST: '127.0.0.1', APPROVALS_BOOTSTRAP_TOKEN: 'main-test-bootstrap-token' })

    const res = await fetch(`http://127.0.0.1:${port}/graphql`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', authorization: 'Bearer main-test-bootstrap-token' },
      body: JSON.stringify({ query: '{ viewer { principal { name } } }' }),
    })
    expect(await res.json()).toEqual({ data: { viewer: { principal: { name: 'Owner' } } } })
    expect((await fetch(`http://127.0.0.1:${port}/readyz`)).status).toBe(200)
    // production: no GraphiQL page
    const page = await fetch(`http://127.0.0.1:${port}/graphql`, { headers: { accept: 'text/html' } })
    expect(await page.text()).not.toMatch(/graphiql/i)

    const exit = exited(child)
    child.kill('SIGTERM')
    expect(await exit).toBe(0)
    expect(lines.some((l) => l.includes('"msg":"shutting down"'))).toBe(true)
    const requestLog = lines.map((l) => JSON.parse(l)).find((e) => e.msg === 'request' && e.url === '/graphql')
    expect(requestLog).toMatchObject({ method: 'POST', status: 200, requestId: expect.stringMatching(/^[0-9a-f-]{36}$/) })
  })

  it('refuses to start on invalid configuration, naming the variable', async () => {
    await expect(startMain({ PORT: 'eighty', DATABASE_URL: 'mysql://nope' })).rejects.toThrow(/PORT[\s\S]*DATABASE_URL|DATABASE_URL[\s\S]*PORT/)
  })
})
