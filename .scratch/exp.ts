process.env.NODE_ENV = 'production'
const { buildApp } = await import('../server/src/app.js')
const { generateToken, hashToken } = await import('../server/src/auth/tokens.js')
const { openDatabase } = await import('../server/src/db.js')
const { createLogger } = await import('../server/src/logger.js')
const { encodeGlobalID } = await import('@pothos/plugin-relay')

const variant = process.argv[2] ?? 'all'
const N = Number(process.argv[3] ?? 1500)
const db = await openDatabase({ dataDir: undefined })
await db.migrate()
const app = buildApp({ db, logger: createLogger('warn'), production: true, clientDir: null, schedulerIntervalMs: 0, accessSweepIntervalMs: 0, rateLimit: { perMinute: 0 }, auditIntervalMs: variant.includes('noseq') ? 0 : 1000 })
const port = await app.listen(0, '127.0.0.1')
const url = `http://127.0.0.1:${port}/graphql`
async function gql(token: string, query: string, variables: object = {}) {
  const res = await fetch(url, { method: 'POST', headers: { 'content-type': 'application/json', authorization: `Bearer ${token}` }, body: JSON.stringify({ query, variables }) })
  const body: any = await res.json()
  if (body.errors) throw new Error(JSON.stringify(body.errors))
  return body.data
}
async function makeUser(name: string, roleKey: string) {
  const token = generateToken()
  const user = await db.prisma.user.create({ data: { email: `${name.toLowerCase().replace(/\W+/g, '-')}@bench.test`, name, roles: { connect: { key: roleKey } }, apiTokens: { create: { name: 'bench', tokenHash: hashToken(token) } } }, select: { id: true } })
  return { id: user.id, token }
}
const owner = await makeUser('Owner', 'owner')
await db.prisma.role.create({ data: { key: 'reviewer', name: 'Reviewer', permissions: ['approval:resolve'] } })
for (let i = 1; i <= 5; i++) await makeUser(`Reviewer ${i}`, 'reviewer')
const agent = await db.prisma.agent.create({ data: { name: 'Bench agent', ownerId: owner.id } })
const agentToken = generateToken()
await db.prisma.apiToken.create({ data: { name: 'bench', tokenHash: hashToken(agentToken), agentId: agent.id } })
await gql(owner.token, `mutation($input: ApprovalRuleInput!) { createApprovalRule(input: $input) { id } }`, { input: { resourceType: 'AGENT_ACTION', actionType: 'send_email', name: 'Email: reviewers', module: 'bench', primaryResolver: { type: 'ROLE', roleKey: 'reviewer' } } })
if (variant.includes('nonotify')) { await db.prisma.$executeRawUnsafe(`ALTER TABLE "ApprovalReviewer" DISABLE TRIGGER "ApprovalReviewer_notify_insert"`) }
if (variant.includes('nohook')) { const t = await db.prisma.$queryRawUnsafe<any[]>(`SELECT tgname FROM pg_trigger WHERE tgrelid = '"ApprovalEvent"'::regclass AND NOT tgisinternal`); console.log(t); for (const r of t) if (r.tgname !== 'approval_event_chain' && !/chain/.test(r.tgname)) await db.prisma.$executeRawUnsafe(`ALTER TABLE "ApprovalEvent" DISABLE TRIGGER "${r.tgname}"`) }
if (variant.includes('nochain')) { const t = await db.prisma.$queryRawUnsafe<any[]>(`SELECT tgname FROM pg_trigger WHERE tgrelid = '"ApprovalEvent"'::regclass AND NOT tgisinternal`); for (const r of t) if (/chain/.test(r.tgname)) await db.prisma.$executeRawUnsafe(`ALTER TABLE "ApprovalEvent" DISABLE TRIGGER "${r.tgname}"`) }
const REQUEST = `mutation($input: RequestApprovalInput!) { requestApproval(input: $input) { approvalRequired request { id status } } }`
let k = 0
const one = () => gql(agentToken, REQUEST, { input: { resourceType: 'AGENT_ACTION', actionType: 'send_email', module: 'bench', idempotencyKey: `k${k++}-${Math.random()}`, params: { to: 'customer@example.com', subject: 'Your order', body: 'It ships today.' } } })
for (let i = 0; i < 200; i++) await one()
await db.analyze()
const t0 = performance.now()
let left = N
await Promise.all(Array.from({ length: 8 }, async () => { while (left-- > 0) await one() }))
const ms = performance.now() - t0
console.log(variant, `${(N / ms * 1000).toFixed(0)} req/s`)
await app.close?.()
process.exit(0)
