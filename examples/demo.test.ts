// `npm run demo` as a newcomer runs it: the service and the example agent as real processes, on
// the embedded defaults. A reviewer approves and rejects through the API (as the inbox does); the
// agent sends what was approved, once, and tells why the announcement was rejected.
import { spawn, spawnSync, type ChildProcessWithoutNullStreams } from 'node:child_process'
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs'
import { createServer } from 'node:net'
import { tmpdir } from 'node:os'
import { dirname, join, resolve } from 'node:path'
import { createRequire } from 'node:module'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'

const root = resolve(import.meta.dirname, '..')
const dir = mkdtempSync(join(tmpdir(), 'approvals-demo-'))
let demo: ChildProcessWithoutNullStreams
let output = ''
let port: number

const freePort = () =>
  new Promise<number>((resolve, reject) => {
    const probe = createServer().listen(0, '127.0.0.1', () => {
      const { port } = probe.address() as { port: number }
      probe.close(() => resolve(port))
    })
    probe.on('error', reject)
  })

/** Resolves with the output once `pattern` has appeared in it; fails with the output on timeout or exit. */
function seen(pattern: RegExp, timeoutMs = 45_000): Promise<RegExpMatchArray> {
  return new Promise((resolve, reject) => {
    const check = () => {
      const match = output.match(pattern)
      if (match) return done(() => resolve(match))
      if (demo.exitCode !== null) done(() => reject(new Error(`the demo exited (${demo.exitCode}) before ${pattern}:\n${output}`)))
    }
    const timer = setTimeout(() => done(() => reject(new Error(`no ${pattern} within ${timeoutMs} ms:\n${output}`))), timeoutMs)
    const done = (settle: () => void) => {
      clearTimeout(timer)
      demo.stdout.off('data', check)
      demo.off('exit', check)
      settle()
    }
    demo.stdout.on('data', check)
    demo.on('exit', check)
    check()
  })
}

async function gql(token: string, query: string, variables: Record<string, unknown> = {}) {
  const res = await fetch(`http://127.0.0.1:${port}/graphql`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', authorization: `Bearer ${token}` },
    body: JSON.stringify({ query, variables }),
  })
  const body = (await res.json()) as { data: any; errors?: unknown }
  if (body.errors) throw new Error(JSON.stringify(body.errors))
  return body.data
}

beforeAll(async () => {
  // the example imports @approvals/sdk, which resolves to the SDK's build
  const tsc = join(dirname(createRequire(import.meta.url).resolve('typescript/package.json')), 'bin', 'tsc')
  const built = spawnSync(process.execPath, [tsc, '-p', join(root, 'sdk', 'tsconfig.build.json')], { encoding: 'utf8' })
  if (built.status !== 0) throw new Error(`building the SDK failed:\n${built.stdout}${built.stderr}`)
  port = await freePort()
  // the embedded defaults, whatever this shell points at
  const { DATABASE_URL: _db, REDIS_URL: _redis, ...embedded } = process.env
  demo = spawn(process.execPath, ['--import', 'tsx', join(root, 'examples', 'demo.ts')], {
    cwd: root,
    env: { ...embedded, NODE_ENV: 'development', PORT: String(port), DEMO_DIR: dir, AGENT_PACE_MS: '0' },
    detached: true, // its own process group: a failed test kills the server and the agent with it
  })
  demo.stdout.setEncoding('utf8').on('data', (chunk: string) => (output += chunk))
  demo.stderr.setEncoding('utf8').on('data', (chunk: string) => (output += chunk))
})

afterAll(async () => {
  if (demo?.pid) {
    try {
      process.kill(-demo.pid, 'SIGKILL')
    } catch {
      // all of them exited already
    }
  }
  rmSync(dir, { recursive: true, force: true })
})

describe('npm run demo', () => {
  it('fills the inbox; what the reviewer approves is sent once, a rejection reaches the agent with its reason; Ctrl-C stops it', async () => {
    const [, reviewerToken] = await seen(/as Grace Hopper[^\n]*\n\s+http:\/\/localhost:\d+\/#token=(\S+)/)
    await seen(/Email to ceo@umbrella\.test: waits for approval/)
    await seen(/Announcement waits for approval/)

    const inbox = await gql(reviewerToken!, `{ approvalInbox(first: 50) { edges { node { id actionType summary params } } } }`)
    const nodes: { id: string; actionType: string; summary: string; params: any }[] = inbox.approvalInbox.edges.map((e: any) => e.node)
    expect(nodes.filter((n) => n.actionType === 'send_email').map((n) => n.params.to).sort()).toEqual(
      ['ceo@umbrella.test', 'jane@acme.test', 'mei@initech.test', 'omar@globex.test'],
    )
    expect(nodes.filter((n) => n.actionType === 'create_record')).toHaveLength(4)

    const jane = nodes.find((n) => n.actionType === 'send_email' && n.params.to === 'jane@acme.test')!
    const omarContact = nodes.find((n) => n.actionType === 'create_record' && n.params.data.name === 'Omar Haddad')!
    const post = nodes.find((n) => n.actionType === 'post_to_social')!
    await gql(reviewerToken!, `mutation($id: ID!) { approveRequest(id: $id) { id } }`, { id: jane.id })
    await gql(reviewerToken!, `mutation($id: ID!) { approveRequest(id: $id) { id } }`, { id: omarContact.id })
    await gql(reviewerToken!, `mutation($id: ID!) { rejectRequest(id: $id, comment: "Not before the launch") { id } }`, { id: post.id })

    await seen(/\[outbox\] Sent "Acme x Approvals: a quick question" to jane@acme\.test/)
    await seen(/Announcement not posted: Grace Hopper said "Not before the launch"/)
    const outbox = readFileSync(join(dir, 'outbox.log'), 'utf8').trim().split('\n').map((line) => JSON.parse(line))
    expect(outbox).toEqual([expect.objectContaining({ id: jane.id, kind: 'email', to: 'jane@acme.test' })])

    const read = async (id: string) =>
      (await gql(reviewerToken!, `query($id: ID!) { approvalRequest(id: $id) { status execution { status attempts } } }`, { id })).approvalRequest
    expect(await read(jane.id)).toEqual({ status: 'APPROVED', execution: { status: 'SUCCEEDED', attempts: 1 } })
    // the service created the CRM contact itself
    expect(await read(omarContact.id)).toEqual({ status: 'APPROVED', execution: { status: 'SUCCEEDED', attempts: 1 } })
    expect(await read(post.id)).toEqual({ status: 'REJECTED', execution: null })

    demo.kill('SIGINT')
    const code = await new Promise<number | null>((r) => demo.once('exit', r))
    expect(code).toBe(0)
    expect(output).toMatch(/\[agent\] stopped/)
    expect(existsSync(join(dir, 'demo.json'))).toBe(true)
  })
})
