// The service as an operator runs it: a child process configured by environment variables.
import type { ChildProcess } from 'node:child_process'
import { mkdtemp, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterAll, describe, expect, it } from 'vitest'
import { loadConfig } from '../src/config.js'
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

  it('reads email and Slack from the environment: both Slack secrets or neither, a public URL in production, a From of one line', () => {
    const config = loadConfig({
      PORT: '4100',
      SMTP_URL: 'smtp://user:pass@mail.example.com:587',
      SLACK_BOT_TOKEN: 'xoxb-1-2-abc',
      SLACK_SIGNING_SECRET: 'signing-secret-123',
      SLACK_API_URL: 'http://127.0.0.1:9999/api',
    })
    expect(config.publicUrl).toBe('http://localhost:4100')
    expect(config.email).toEqual({ smtpUrl: 'smtp://user:pass@mail.example.com:587', from: 'Approvals <approvals@localhost>' })
    expect(config.slack).toEqual({ botToken: 'xoxb-1-2-abc', signingSecret: 'signing-secret-123', apiUrl: 'http://127.0.0.1:9999/api/' })
    expect(loadConfig({ APPROVALS_PUBLIC_URL: 'https://approvals.example.com/' }).publicUrl).toBe('https://approvals.example.com')
    expect(loadConfig({})).toMatchObject({ email: undefined, slack: undefined })
    expect(() => loadConfig({ SLACK_BOT_TOKEN: 'xoxb-1-2-abc' })).toThrow(/SLACK_BOT_TOKEN and SLACK_SIGNING_SECRET/)
    expect(() => loadConfig({ NODE_ENV: 'production', SMTP_URL: 'smtp://mail.example.com' })).toThrow(/APPROVALS_PUBLIC_URL/)
    expect(() => loadConfig({ APPROVALS_EMAIL_FROM: 'a@example.com\r\nBcc: x@example.com' })).toThrow(/APPROVALS_EMAIL_FROM/)
    expect(() => loadConfig({ SMTP_URL: 'http://mail.example.com' })).toThrow(/SMTP_URL/)
  })
})
