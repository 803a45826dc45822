// npm run demo: the service on its embedded defaults (PGlite, in-process pub/sub) seeded with demo
// people, rules and an agent token, and the example outreach agent (examples/outreach-agent)
// working against it, so that the inbox fills live. Approve in the browser and the agent "sends"
// (to the outbox file). Ctrl-C stops both.
//
// Environment: PORT (4000), DEMO_DIR (./data/demo: the database, the demo's tokens and the
// outbox), AGENT_PACE_MS (3000, between leads). Run it again and it picks up where it was.
import { spawn, type ChildProcess } from 'node:child_process'
import { randomBytes } from 'node:crypto'
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs'
import { join, resolve } from 'node:path'
import { setTimeout as delay } from 'node:timers/promises'

const root = resolve(import.meta.dirname, '..')
const port = Number(process.env.PORT ?? 4000)
const dir = resolve(process.env.DEMO_DIR ?? join(root, 'data', 'demo'))
const base = `http://localhost:${port}`
const api = `http://127.0.0.1:${port}/graphql`
const stateFile = join(dir, 'demo.json')
mkdirSync(dir, { recursive: true })

interface DemoState {
  ownerToken: string
  reviewerToken?: string
  agentToken?: string
}
const state: DemoState = existsSync(stateFile)
  ? (JSON.parse(readFileSync(stateFile, 'utf8')) as DemoState)
  : { ownerToken: `demo_${randomBytes(24).toString('base64url')}` }
const save = () => writeFileSync(stateFile, JSON.stringify(state, null, 2), { mode: 0o600 })
save()

const children = new Set<ChildProcess>()
let stopping = false
function stopAll(code: number) {
  if (stopping) return
  stopping = true
  for (const child of children) child.kill('SIGTERM')
  const exit = () => children.size === 0 && process.exit(code)
  for (const child of children) child.once('exit', exit)
  exit()
}
process.on('SIGINT', () => stopAll(0))
process.on('SIGTERM', () => stopAll(0))

/** Runs a TypeScript entry point with tsx in a child process. */
function run(name: string, entry: string, env: Record<string, string>, quiet = false) {
  const child = spawn(process.execPath, ['--import', 'tsx', join(root, entry)], {
    cwd: root,
    env: { ...process.env, ...env },
    stdio: ['ignore', quiet ? 'ignore' : 'inherit', 'inherit'],
  })
  children.add(child)
  child.once('exit', (code, signal) => {
    children.delete(child)
    if (!stopping) {
      console.error(`The ${name} stopped (${signal ?? `exit code ${code}`}); stopping the demo.`)
      stopAll(1)
    }
  })
  return child
}

async function gql<T = any>(token: string, query: string, variables: Record<string, unknown> = {}): Promise<T> {
  const res = await fetch(api, {
    method: 'POST',
    headers: { 'content-type': 'application/json', authorization: `Bearer ${token}` },
    body: JSON.stringify({ query, variables }),
  })
  const body = (await res.json()) as { data: T; errors?: { message: string }[] }
  if (body.errors?.length) throw new Error(`${body.errors.map((e) => e.message).join('; ')} (in ${query.slice(0, 60)}...)`)
  return body.data
}

/** People, rules and the agent, through the public API as the owner. Once per demo folder. */
async function seed() {
  const owner = state.ownerToken
  const user = (input: Record<string, unknown>) =>
    gql(owner, `mutation($input: CreateUserInput!) { createUser(input: $input) { id } }`, { input }).then((d) => d.createUser.id as string)
  const token = (principalId: string, name: string) =>
    gql(owner, `mutation($p: ID!, $n: String!) { createApiToken(principalId: $p, name: $n) { token } }`, { p: principalId, n: name }).then(
      (d) => d.createApiToken.token as string,
    )
  const rule = (input: Record<string, unknown>) => gql(owner, `mutation($input: ApprovalRuleInput!) { createApprovalRule(input: $input) { id } }`, { input })

  const grace = await user({ email: 'grace@demo.test', name: 'Grace Hopper', roleKeys: ['manager'] })
  const sam = await user({ email: 'sam@demo.test', name: 'Sam Carter', roleKeys: ['member'], managerId: grace })
  await user({ email: 'alan@demo.test', name: 'Alan Turing', roleKeys: ['manager'] })
  const agent = await gql(owner, `mutation($input: CreateAgentInput!) { createAgent(input: $input) { id } }`, {
    input: { name: 'Outreach agent', description: "Sam's sales assistant: finds leads, writes to them, keeps the CRM.", ownerId: sam },
  }).then((d) => d.createAgent.id as string)

  await rule({
    name: 'Outbound email: the sender’s manager',
    description: 'Every email an agent sends to a customer is read by the manager of the person it works for.',
    resourceType: 'AGENT_ACTION',
    actionType: 'send_email',
    primaryResolver: { type: 'MANAGER' },
    fallbackResolver: { type: 'ROLE', roleKey: 'manager' },
    escalateAfterSeconds: 3600,
    expiresAfterSeconds: 7 * 24 * 3600,
  })
  await rule({
    name: 'Social posts: marketing managers',
    resourceType: 'AGENT_ACTION',
    actionType: 'post_to_social',
    primaryResolver: { type: 'ROLE', roleKey: 'manager' },
    expiresAfterSeconds: 24 * 3600,
  })
  await rule({
    name: 'New CRM contacts',
    resourceType: 'RECORD_MUTATION',
    actionType: 'create_record',
    module: 'crm',
    primaryResolver: { type: 'ROLE', roleKey: 'manager' },
  })
  state.reviewerToken = await token(grace, 'demo inbox')
  state.agentToken = await token(agent, 'outreach agent')
  save()
}

const server = run('server', 'server/src/main.ts', {
  PORT: String(port),
  APPROVALS_DATA_DIR: join(dir, 'db'),
  APPROVALS_BOOTSTRAP_TOKEN: state.ownerToken,
  APPROVALS_BOOTSTRAP_EMAIL: 'ada@demo.test',
  APPROVALS_BOOTSTRAP_NAME: 'Ada Lovelace',
  LOG_LEVEL: process.env.LOG_LEVEL ?? 'warn',
})

// the server opens the database and applies migrations first: wait until it answers
for (let ready = false; !ready; ) {
  if (server.exitCode !== null || stopping) process.exit(1)
  ready = await fetch(`http://127.0.0.1:${port}/readyz`).then((r) => r.ok, () => false)
  if (!ready) await delay(200)
}
if (!state.agentToken) await seed()

console.log(`
  Approvals demo: ${base}

  Open the inbox as Grace Hopper (manager; reviews Sam's agent):
    ${base}/#token=${state.reviewerToken}
  or as Ada Lovelace (owner; sees everything, edits rules):
    ${base}/#token=${state.ownerToken}

  The outreach agent starts now. What you approve lands in ${join(dir, 'outbox.log')}.
  Ctrl-C stops the demo; run it again to carry on (delete ${dir} to start over).
`)

run('agent', 'examples/outreach-agent/agent.ts', {
  APPROVALS_URL: api,
  APPROVALS_TOKEN: state.agentToken!,
  OUTBOX: join(dir, 'outbox.log'),
})
