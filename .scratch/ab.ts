// A/B: the same workload against two source trees, alternating rounds, in one process.
process.env.NODE_ENV = 'production'
const roots = process.argv.slice(2, 4)
const variants = (process.argv[4] ?? 'all,all').split(',')
const ROUNDS = Number(process.argv[5] ?? 8)
const PER = Number(process.argv[6] ?? 400)

async function setup(root: string, variant: string) {
  const { buildApp } = await import(`${root}/server/src/app.js`)
  const { generateToken, hashToken } = await import(`${root}/server/src/auth/tokens.js`)
  const { openDatabase } = await import(`${root}/server/src/db.js`)
  const { createLogger } = await import(`${root}/server/src/logger.js`)
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
  if (variant.includes('nonotify')) await db.prisma.$executeRawUnsafe(`ALTER TABLE "ApprovalReviewer" DISABLE TRIGGER "ApprovalReviewer_notify_insert"`)
  const REQUEST = `mutation($input: RequestApprovalInput!) { requestApproval(input: $input) { approvalRequired request { id status } } }`
  let k = 0
  const one = () => gql(agentToken, REQUEST, { input: { resourceType: 'AGENT_ACTION', actionType: 'send_email', module: 'bench', idempotencyKey: `k${k++}-${Math.random()}`, params: { to: 'customer@example.com', subject: 'Your order', body: 'It ships today.' } } })
  for (let i = 0; i < 200; i++) await one()
  await db.analyze()
  return { one, db, app }
}
const sides = [] as Awaited<ReturnType<typeof setup>>[]
for (let i = 0; i < 2; i++) sides.push(await setup(roots[i]!, variants[i]!))
const rates: number[][] = [[], []]
for (let r = 0; r < ROUNDS; r++) {
  for (const i of r % 2 ? [1, 0] : [0, 1]) {
    const t0 = performance.now()
    let left = PER
    await Promise.all(Array.from({ length: 8 }, async () => { while (left-- > 0) await sides[i]!.one() }))
    rates[i]!.push(PER / (performance.now() - t0) * 1000)
    await new Promise((r) => setTimeout(r, 300))
  }
}
const med = (a: number[]) => [...a].sort((x, y) => x - y)[Math.floor(a.length / 2)]!
for (let i = 0; i < 2; i++) console.log(`${roots[i]} ${variants[i]}: median ${med(rates[i]!).toFixed(0)} req/s  [${rates[i]!.map((x) => x.toFixed(0)).join(' ')}]`)
console.log(`ratio B/A ${(med(rates[1]!) / med(rates[0]!)).toFixed(3)}`)
process.exit(0)
