// worker() through real processes: the SDK's worker in child processes (sdk/test/fixtures/worker.ts)
// against a server in this process. An approved action killed mid-handler (SIGKILL) runs again
// after a restart and, with the request id as idempotency key, its outside effect happens once;
// three workers share 200 actions and each is handled exactly once.
import { spawn, type ChildProcess } from 'node:child_process'
import { EventEmitter } from 'node:events'
import { mkdtempSync, readFileSync, rmSync, existsSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { createInterface } from 'node:readline'
import { fileURLToPath } from 'node:url'
import { decodeGlobalID } from '@pothos/plugin-relay'
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest'
import { createAgentWithToken, ManualClock, requestApproval, startServer, type TestServer } from '../../server/test/harness.js'
import { createOwner, decideOk, email, gatedModule, readRequest, type Principal } from './helpers.js'

const FIXTURE = fileURLToPath(new URL('./fixtures/worker.ts', import.meta.url))
const ROOT = fileURLToPath(new URL('../../', import.meta.url))
const LEASE_SECONDS = 5
/** The database's id of a request, from its API (relay) id. */
const dbId = (globalId: string) => decodeGlobalID(globalId).id

const clock = new ManualClock()
let server: TestServer
let owner: Principal, reviewer: Principal
let folder: string
const children: WorkerProcess[] = []

beforeAll(async () => {
  // no rate limit: the test approves 200 requests in a burst; room for the workers' subscriptions
  server = await startServer({ clock, rateLimitPerMinute: 0, maxSubscriptionsPerPrincipal: 1000 })
  owner = await createOwner(server, 'Boss')
  reviewer = await createOwner(server, 'Rita Reviewer')
  folder = mkdtempSync(join(tmpdir(), 'approvals-outbox-'))
})

// a failure shows what the test's worker processes said, not only what the test saw
let current: WorkerProcess[] = []
beforeEach((context) => {
  current = []
  context.onTestFailed(() => {
    for (const w of current) {
      const said = [...w.lines, ...w.stderr.map((l) => `stderr: ${l}`)]
      console.error(`--- ${w.name} (exit ${w.child.exitCode ?? w.child.signalCode}) ---\n${said.join('\n')}`)
    }
  })
})

afterAll(async () => {
  await Promise.all(children.map((c) => c.kill('SIGKILL')))
  await server?.destroy()
  if (folder) rmSync(folder, { recursive: true, force: true })
})

/** A worker child process and the lines it wrote to stdout. */
interface WorkerProcess {
  child: ChildProcess
  name: string
  lines: string[]
  stderr: string[]
  /** Resolves with the first line (already written or to come) that `match` accepts; rejects if the process exits first. */
  line(match: (line: string) => boolean): Promise<string>
  /** Sends `signal` (if it still runs) and resolves once it exited. */
  kill(signal: NodeJS.Signals): Promise<void>
}

/** Every line of every worker process, as it arrives. */
const output = new EventEmitter<{ line: [process: WorkerProcess, line: string]; exit: [process: WorkerProcess] }>()
output.setMaxListeners(0)

function startWorker(name: string, env: Record<string, string>): WorkerProcess {
  const child = spawn(process.execPath, ['--import', 'tsx', FIXTURE], {
    cwd: ROOT,
    env: { ...process.env, ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  })
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()))
  const worker: WorkerProcess = {
    child,
    name,
    lines: [],
    stderr: [],
    line(match) {
      return new Promise((resolve, reject) => {
        const found = worker.lines.find(match)
        if (found !== undefined) return resolve(found)
        const onLine = (from: WorkerProcess, line: string) => {
          if (from !== worker || !match(line)) return
          cleanup()
          resolve(line)
        }
        const onExit = (from: WorkerProcess) => {
          if (from !== worker) return
          cleanup()
          reject(new Error(`${name} exited (${child.exitCode ?? child.signalCode}) first:\n${[...worker.lines, ...worker.stderr].join('\n')}`))
        }
        const cleanup = () => {
          output.off('line', onLine)
          output.off('exit', onExit)
        }
        output.on('line', onLine)
        output.on('exit', onExit)
      })
    },
    async kill(signal) {
      if (child.exitCode === null && child.signalCode === null) child.kill(signal)
      await exited
    },
  }
  createInterface({ input: child.stdout! }).on('line', (line) => {
    worker.lines.push(line)
    output.emit('line', worker, line)
  })
  createInterface({ input: child.stderr! }).on('line', (line) => worker.stderr.push(line))
  // after the last stdout line: the readline interface has read what the pipe held
  child.once('close', () => output.emit('exit', worker))
  children.push(worker)
  current.push(worker)
  return worker
}

/**
 * Resolves once `check()` is true, checking at once and again after each line any worker process
 * writes (one check at a time); rejects if every worker process has exited meanwhile.
 */
function untilAfterLines(check: () => Promise<boolean>, workers: WorkerProcess[]): Promise<void> {
  return new Promise((resolve, reject) => {
    let checking = false
    let again = false
    let finished = false
    const finish = (error?: Error) => {
      finished = true
      output.off('line', onLine)
      output.off('exit', onExit)
      if (error) reject(error)
      else resolve()
    }
    const run = async () => {
      if (checking) return void (again = true)
      checking = true
      try {
        do {
          again = false
          if (await check()) return finish()
        } while (again && !finished)
      } catch (error) {
        finish(error as Error)
      } finally {
        checking = false
      }
    }
    const onLine = () => void run()
    const onExit = () => {
      if (workers.every((w) => w.child.exitCode !== null || w.child.signalCode !== null)) {
        void run().then(() => finished || finish(new Error('every worker process exited first')))
      }
    }
    output.on('line', onLine)
    output.on('exit', onExit)
    void run()
  })
}

async function newAgent(name: string): Promise<Principal> {
  return createAgentWithToken(server, { name, ownerId: owner.id })
}

/** Asks for approval of send_email as `agent` (requestApproval); returns the request id. */
async function ask(agent: Principal, module: string, n: number | string): Promise<string> {
  const res = await requestApproval(server, agent.token, { resourceType: 'AGENT_ACTION', actionType: 'send_email', module, params: email(n) })
  if (res.errors) throw new Error(JSON.stringify(res.errors))
  expect(res.data.requestApproval.approvalRequired).toBe(true)
  return res.data.requestApproval.request.id
}

const outboxLines = (file: string): { requestId: string; to: string }[] =>
  existsSync(file)
    ? readFileSync(file, 'utf8')
        .split('\n')
        .filter(Boolean)
        .map((line) => JSON.parse(line))
    : []

describe('worker() in real processes', () => {
  it(
    'a worker process killed with SIGKILL in the middle of a handler runs the action again after restart, and with the request id as idempotency key the outside effect happens once',
    async () => {
      const agent = await newAgent('Mailer')
      const module = await gatedModule(server, reviewer.id)
      const outbox = join(folder, 'crash.jsonl')
      const env = { URL: server.url, TOKEN: agent.token, OUTBOX: outbox, LEASE_SECONDS: String(LEASE_SECONDS) }

      const id = await ask(agent, module, 'crash')
      await decideOk(server, reviewer, id, 'approveRequest')

      // the first worker sends the email, then hangs before it can report
      const first = startWorker('first', { ...env, HANG_ON_ATTEMPT: '1' })
      await first.line((l) => l === `hung ${id} 1`)
      expect(first.lines).toContain(`effect ${id} 1 written`)
      expect(outboxLines(outbox)).toEqual([{ requestId: id, to: 'ceo@client.test' }])
      expect((await readRequest(server, agent.token, id)).execution).toMatchObject({ status: 'RUNNING', attempts: 1 })

      await first.kill('SIGKILL')
      expect(first.child.signalCode).toBe('SIGKILL')
      expect(first.lines.some((l) => l.startsWith(`handled ${id}`) || l.startsWith(`reported ${id}`))).toBe(false)

      // its lease runs out: the action is ready again
      clock.advance(LEASE_SECONDS + 1)
      const changes = await server.app.scheduler.runOnce()
      expect(changes.requeued).toEqual([dbId(id)])
      expect((await readRequest(server, agent.token, id)).execution).toMatchObject({ status: 'READY', attempts: 1 })

      // the restarted worker runs it again, with the same request id; the outbox sees a duplicate
      const second = startWorker('second', env)
      await second.line((l) => l === `reported ${id}`)
      expect(second.lines.filter((l) => l.startsWith('error '))).toEqual([])
      expect(second.lines.filter((l) => l.startsWith('started '))).toEqual([`started ${id} 2`])
      expect(second.lines).toContain(`effect ${id} 2 duplicate`)
      expect((await readRequest(server, agent.token, id)).execution).toMatchObject({ status: 'SUCCEEDED', attempts: 2, result: { sent: 'duplicate' } })
      expect(outboxLines(outbox)).toEqual([{ requestId: id, to: 'ceo@client.test' }])

      await second.kill('SIGTERM')
      expect(second.child.exitCode).toBe(0)
    },
    120_000,
  )

  it(
    'three worker processes and 200 approved actions: each handler call is observed once, none lost',
    async () => {
      const agent = await newAgent('Bulk mailer')
      const module = await gatedModule(server, reviewer.id)
      const outbox = join(folder, 'bulk.jsonl')
      const env = { URL: server.url, TOKEN: agent.token, OUTBOX: outbox }
      const TOTAL = 200
      const BATCH = 20

      const ids: string[] = []
      for (let start = 0; start < TOTAL; start += BATCH) {
        ids.push(...(await Promise.all(Array.from({ length: BATCH }, (_, i) => ask(agent, module, start + i)))))
      }
      const approve = async (batch: string[]) => {
        for (let start = 0; start < batch.length; start += BATCH) {
          await Promise.all(batch.slice(start, start + BATCH).map((id) => decideOk(server, reviewer, id, 'approveRequest')))
        }
      }

      // 80 approved before the workers start, 120 while they run
      await approve(ids.slice(0, 80))
      const listening = server.subscribed('approvedActions', 3)
      const workers = [1, 2, 3].map((n) => startWorker(`worker ${n}`, env))
      await listening
      await approve(ids.slice(80))

      const rows = ids.map(dbId)
      const succeeded = () => server.db.prisma.execution.count({ where: { requestId: { in: rows }, status: 'SUCCEEDED' } })
      await untilAfterLines(async () => (await succeeded()) === TOTAL, workers)

      // the workers' own errors first: they say why, where the counts below would only say what
      expect(workers.flatMap((w) => w.lines.filter((l) => l.startsWith('error ')).map((l) => `${w.name}: ${l}`))).toEqual([])
      const handled = workers.flatMap((w) => w.lines.filter((l) => l.startsWith('handled ')).map((l) => l.split(' ')))
      const handledIds = handled.map(([, id]) => id!)
      const twice = handledIds.filter((id, i) => handledIds.indexOf(id) !== i)
      expect(twice).toEqual([])
      expect(new Set(handledIds).size).toBe(TOTAL)
      expect([...handledIds].sort()).toEqual([...ids].sort())
      expect(handled.filter(([, , attempt]) => attempt !== '1')).toEqual([])

      const executions = await server.db.prisma.execution.findMany({ where: { requestId: { in: rows } }, select: { status: true, attempts: true } })
      expect(executions).toHaveLength(TOTAL)
      expect(executions.every((e) => e.status === 'SUCCEEDED' && e.attempts === 1)).toBe(true)
      const sent = outboxLines(outbox).map((l) => l.requestId)
      expect(sent.sort()).toEqual([...ids].sort())

      await Promise.all(workers.map((w) => w.kill('SIGTERM')))
      expect(workers.map((w) => w.child.exitCode)).toEqual([0, 0, 0])
    },
    120_000,
  )
})
