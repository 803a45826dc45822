// The service as an operator runs it: a child process configured by environment variables.
import type { ChildProcess } from 'node:child_process'
import { mkdtemp, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterAll, describe, expect, it } from 'vitest'
import { freshDatabase, startMain, type DatabaseLocation } from './harness.js'

const cleanups: (() => Promise<void>)[] = []
afterAll(async () => {
  for (const c of cleanups) await c()
})

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

  it('on an empty directory without APPROVALS_BOOTSTRAP_TOKEN: outside production, creates the owner with a generated token shown once as a sign-in link; in production, refuses to start', async () => {
    const dataDir = await mkdtemp(join(tmpdir(), 'approvals-main-'))
    cleanups.push(() => rm(dataDir, { recursive: true, force: true }))
    const env = { APPROVALS_DATA_DIR: dataDir, PORT: '0', HOST: '127.0.0.1', DATABASE_URL: '', APPROVALS_BOOTSTRAP_TOKEN: '' }
    await expect(startMain(env)).rejects.toThrow(/set APPROVALS_BOOTSTRAP_TOKEN/)
    const { child, port, lines } = await startMain({ ...env, NODE_ENV: 'development' })
    const shown = lines.map((l) => JSON.parse(l)).find((e) => e.signIn)
    expect(shown.signIn).toBe(`http://localhost:${port}/#token=${shown.token}`)
    const res = await fetch(`http://127.0.0.1:${port}/graphql`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', authorization: `Bearer ${shown.token}` },
      body: JSON.stringify({ query: '{ viewer { permissions } }' }),
    })
    expect((await res.json()).data.viewer.permissions).toContain('directory:manage')
    const exit = exited(child)
    child.kill('SIGTERM')
    await exit
    // shown once: a restart on the same folder creates nothing and shows nothing
    const again = await startMain({ ...env, NODE_ENV: 'development' })
    expect(again.lines.some((l) => l.includes('signIn'))).toBe(false)
    const exitAgain = exited(again.child)
    again.child.kill('SIGTERM')
    await exitAgain
  }, 120_000) // three starts of the whole service

  it('refuses to start on invalid configuration, naming the variable', async () => {
    await expect(startMain({ PORT: 'eighty', DATABASE_URL: 'mysql://nope' })).rejects.toThrow(/PORT[\s\S]*DATABASE_URL|DATABASE_URL[\s\S]*PORT/)
  })
})
