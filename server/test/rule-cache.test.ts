// The enabled rules are cached (approvals/rule-cache.ts): an action no rule gates reads no rule,
// every rule change applies at the next request, a cache that missed a change is caught by the
// rule set's version before it is relied on, and a rule edited while requests arrive is never
// half-applied. Across instances: two-instances.pg.redis.
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { createAgentWithToken, createRule, createUserWithToken, RULE_FIELDS, startServer, type TestServer } from './harness.js'

let server: TestServer
let statements: string[] = []
let agent: { id: string; token: string }
let alice: { id: string; token: string }
let bob: { id: string; token: string }

beforeAll(async () => {
  server = await startServer({ onQuery: (sql) => statements.push(sql) })
  agent = await createAgentWithToken(server, { name: 'Rule cache agent' })
  alice = await createUserWithToken(server, { email: 'alice@example.com', name: 'Alice', roleKeys: ['member'] })
  bob = await createUserWithToken(server, { email: 'bob@example.com', name: 'Bob', roleKeys: ['member'] })
})
afterAll(async () => {
  await server?.destroy()
})

const ASK = `mutation($i: RequestApprovalInput!) { requestApproval(input: $i) { approvalRequired request { id } } }`
// the requester sees little of the rule: the owner reads what the request was made under
const READ = `query($id: ID!) { approvalRequest(id: $id) { id reviewers { name } rule { version name } } }`
const browse = (module: string, n: number | string = 0) => ({
  resourceType: 'AGENT_ACTION',
  actionType: 'browse_website',
  module,
  params: { url: `https://example.com/${n}` },
})
async function ask(module: string, n: number | string = 0) {
  const res = await server.gql(ASK, { i: browse(module, n) }, agent.token)
  if (res.errors) throw new Error(JSON.stringify(res.errors))
  const { approvalRequired, request } = res.data.requestApproval as { approvalRequired: boolean; request: { id: string } | null }
  if (!request) return { approvalRequired, request: null }
  const read = await server.gql(READ, { id: request.id }, server.ownerToken)
  if (read.errors) throw new Error(JSON.stringify(read.errors))
  return { approvalRequired, request: read.data.approvalRequest as { id: string; reviewers: { name: string }[]; rule: { version: number; name: string } } }
}
const updateRule = async (id: string, input: Record<string, unknown>) => {
  const res = await server.gql(`mutation($id: ID!, $i: ApprovalRuleInput!) { updateApprovalRule(id: $id, input: $i) { ${RULE_FIELDS} } }`, { id, i: input }, server.ownerToken)
  if (res.errors) throw new Error(JSON.stringify(res.errors))
  return res.data.updateApprovalRule
}
const ruleInput = (module: string, reviewerId: string, name = `rule ${module}`) => ({
  name,
  resourceType: 'AGENT_ACTION',
  actionType: 'browse_website',
  module,
  primaryResolver: { type: 'NAMED_USER', userId: reviewerId },
})

describe('the rules, cached', () => {
  it('once warm, an action no rule gates costs no SQL at all; with an idempotency key, the key\'s lookup alone', async () => {
    await ask('nothing-here', 'cold')
    statements = []
    expect((await ask('nothing-here', 'warm')).approvalRequired).toBe(false)
    expect(statements).toEqual([])
    const keyed = await server.gql(ASK, { i: { ...browse('nothing-here', 'keyed'), idempotencyKey: 'k-1' } }, agent.token)
    expect(keyed.data.requestApproval.approvalRequired).toBe(false)
    expect(statements).toHaveLength(1)
    // refusals stay: an agent naming someone it may not act for
    const refused = await server.gql(ASK, { i: { ...browse('nothing-here', 'x'), onBehalfOfUserId: alice.id } }, agent.token)
    expect(refused.errors?.[0]?.extensions?.code).toBe('FORBIDDEN')
  })

  it('a rule created, edited, disabled or deleted applies at the next request', async () => {
    expect((await ask('lifecycle')).approvalRequired).toBe(false) // warms the cache: no rule
    const rule = await createRule(server, ruleInput('lifecycle', alice.id))
    expect((await ask('lifecycle', 1)).request!.reviewers).toEqual([{ name: 'Alice' }])
    await updateRule(rule.id, ruleInput('lifecycle', bob.id))
    expect((await ask('lifecycle', 2)).request).toMatchObject({ reviewers: [{ name: 'Bob' }], rule: { version: 2 } })
    await updateRule(rule.id, { ...ruleInput('lifecycle', bob.id), enabled: false })
    expect((await ask('lifecycle', 3)).approvalRequired).toBe(false)
    await updateRule(rule.id, ruleInput('lifecycle', bob.id))
    expect((await ask('lifecycle', 4)).approvalRequired).toBe(true)
    const deleted = await server.gql(`mutation($id: ID!) { deleteApprovalRule(id: $id) }`, { id: rule.id }, server.ownerToken)
    expect(deleted.errors).toBeUndefined()
    expect((await ask('lifecycle', 5)).approvalRequired).toBe(false)
  })

  it('a cache that missed a change (no announcement) is caught by the rule set version: the request uses the rule as it is', async () => {
    const rule = await createRule(server, ruleInput('unannounced', alice.id))
    expect((await ask('unannounced', 1)).request).toMatchObject({ reviewers: [{ name: 'Alice' }], rule: { version: 1 } })
    // changed behind the cache's back, as another instance whose announcement was lost would
    const ruleId = Buffer.from(rule.id, 'base64').toString().split(':')[1]!
    const bobId = Buffer.from(bob.id, 'base64').toString().split(':')[1]!
    await server.db.prisma.$transaction([
      server.db.prisma.approvalRule.update({
        where: { id: ruleId },
        data: { name: 'rule unannounced, edited', primaryResolver: { type: 'NAMED_USER', userId: bobId }, version: { increment: 1 } },
      }),
      server.db.prisma.$executeRaw`UPDATE "RuleSet" SET "version" = "version" + 1 WHERE "id" = 1`,
    ])
    expect((await ask('unannounced', 2)).request).toMatchObject({ reviewers: [{ name: 'Bob' }], rule: { version: 2, name: 'rule unannounced, edited' } })
  })

  it('a rule edited while requests arrive: each request has one version of it, whole, and those after the edit the new one', async () => {
    const rule = await createRule(server, ruleInput('racing', alice.id, 'racing v1'))
    const before = Array.from({ length: 15 }, (_, i) => ask('racing', `a${i}`))
    const edit = updateRule(rule.id, ruleInput('racing', bob.id, 'racing v2'))
    const during = Array.from({ length: 15 }, (_, i) => ask('racing', `b${i}`))
    await edit
    const after = await Promise.all(Array.from({ length: 5 }, (_, i) => ask('racing', `c${i}`)))
    for (const { request } of [...(await Promise.all([...before, ...during])), ...after]) {
      const { version, name } = request!.rule
      expect([version, name, request!.reviewers]).toEqual(version === 1 ? [1, 'racing v1', [{ name: 'Alice' }]] : [2, 'racing v2', [{ name: 'Bob' }]])
    }
    expect(after.map((a) => a.request!.rule.version)).toEqual([2, 2, 2, 2, 2])
  })
})
