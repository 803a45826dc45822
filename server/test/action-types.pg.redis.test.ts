// Custom action types across two instances sharing one PostgreSQL and one Redis: each keeps them in
// memory, and a change on one applies on the other as soon as its announcement arrives.
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { codes, createAgentWithToken, createRule, createUserWithToken, freshDatabase, startServer, type DatabaseLocation, type TestServer } from './harness.js'

let location: DatabaseLocation
let a: TestServer
let b: TestServer

beforeAll(async () => {
  location = await freshDatabase()
  const redisUrl = process.env.TEST_REDIS_URL!
  a = await startServer({ location, redisUrl, ownerToken: 'action-types-owner-token' })
  b = await startServer({ location, redisUrl, ownerToken: 'action-types-owner-token' })
})
afterAll(async () => {
  await a?.stop()
  await b?.stop()
  await location?.drop()
})

const ASK = `mutation($i: RequestApprovalInput!) { requestApproval(input: $i) { approvalRequired } }`
const CREATE = `mutation($i: ActionTypeInput!) { createActionType(input: $i) { key } }`
const UPDATE = `mutation($k: String!, $i: ActionTypeInput!) { updateActionType(key: $k, input: $i) { key } }`
const schema = (required: string[]) => ({
  type: 'object',
  required,
  properties: { service: { type: 'string' }, version: { type: 'string' } },
})

describe('custom action types on two instances', () => {
  it('a type created on A is known on B at once; a change or delete on A applies on B within a second', async () => {
    const reviewer = await createUserWithToken(a, { email: 'deploys@example.com', name: 'Deploys', roleKeys: ['member'] })
    const agent = await createAgentWithToken(a, { name: 'Deployer' })
    const ask = (params: Record<string, unknown>) => b.gql(ASK, { i: { resourceType: 'AGENT_ACTION', actionType: 'deploy_service', params } }, agent.token)
    // B has not heard of it yet: an unknown key is read each time, never kept
    expect(codes(await ask({ service: 'web' }))).toEqual(['BAD_USER_INPUT'])
    const created = await a.gql(CREATE, { i: { key: 'deploy_service', description: 'Deploy', paramsSchema: schema(['service']) } }, a.ownerToken)
    expect(created.errors).toBeUndefined()
    expect((await ask({ service: 'web' })).data.requestApproval).toEqual({ approvalRequired: false })

    // B holds the type now; a change on A reaches it through Redis
    const heard = () => b.app.pubsub.subscribe('actionTypesChanged')[Symbol.asyncIterator]().next()
    let changed = heard()
    let started = Date.now()
    const updated = await a.gql(UPDATE, { k: 'deploy_service', i: { key: 'deploy_service', description: 'Deploy', paramsSchema: schema(['service', 'version']) } }, a.ownerToken)
    expect(updated.errors).toBeUndefined()
    await changed
    const refused = await ask({ service: 'web' })
    expect(refused.errors![0]!.extensions).toMatchObject({ code: 'BAD_USER_INPUT', pointer: '/version' })
    expect(Date.now() - started).toBeLessThan(1000)

    // a rule on B, then a delete on A while it exists: CONFLICT; once the rule is gone, the delete applies on B
    const rule = await createRule(b, { name: 'deploys', resourceType: 'AGENT_ACTION', actionType: 'deploy_service', primaryResolver: { type: 'NAMED_USER', userId: reviewer.id } })
    expect((await ask({ service: 'web', version: '1.2' })).data.requestApproval).toEqual({ approvalRequired: true })
    expect(codes(await a.gql(`mutation { deleteActionType(key: "deploy_service") }`, {}, a.ownerToken))).toEqual(['CONFLICT'])
    await b.gql(`mutation($id: ID!) { deleteApprovalRule(id: $id) }`, { id: rule.id }, b.ownerToken)
    changed = heard()
    started = Date.now()
    expect((await a.gql(`mutation { deleteActionType(key: "deploy_service") }`, {}, a.ownerToken)).data.deleteActionType).toBe(true)
    await changed
    const gone = await ask({ service: 'web', version: '1.3' })
    expect(gone.errors![0]!.message).toMatch(/Unknown action type "deploy_service"/)
    expect(Date.now() - started).toBeLessThan(1000)
  })

  it('a delete on one instance and a rule naming the type created on the other: never both', async () => {
    const reviewer = await createUserWithToken(a, { email: 'race@example.com', name: 'Race', roleKeys: ['member'] })
    for (let round = 0; round < 10; round++) {
      const key = `race_type_${round}`
      const made = await a.gql(CREATE, { i: { key, description: 'Race', paramsSchema: { type: 'object' } } }, a.ownerToken)
      expect(made.errors).toBeUndefined()
      const [deleted, rule] = await Promise.all([
        a.gql(`mutation($k: String!) { deleteActionType(key: $k) }`, { k: key }, a.ownerToken),
        b.gql(
          `mutation($i: ApprovalRuleInput!) { createApprovalRule(input: $i) { id } }`,
          { i: { name: key, resourceType: 'AGENT_ACTION', actionType: key, primaryResolver: { type: 'NAMED_USER', userId: reviewer.id } } },
          b.ownerToken,
        ),
      ])
      // exactly one succeeded: the rule (and the delete is CONFLICT) or the delete (and the rule names an unknown type)
      expect([codes(deleted), codes(rule)]).toSatisfy(
        ([d, r]: string[][]) => (d!.length === 0 && r!.join() === 'BAD_USER_INPUT') || (d!.join() === 'CONFLICT' && r!.length === 0),
      )
    }
    const rules = (await a.gql(`{ approvalRules { actionType } }`, {}, a.ownerToken)).data.approvalRules as { actionType: string }[]
    const types = new Set(((await a.gql(`{ actionTypes { key } }`, {}, a.ownerToken)).data.actionTypes as { key: string }[]).map((t) => t.key))
    expect(rules.filter((r) => !types.has(r.actionType))).toEqual([])
  })
})
