// testApprovalRule: a rule being edited, tested on a sample action before it is saved.
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { codes, createRule, createUserWithToken, startServer, type TestServer } from './harness.js'

let server: TestServer
let member: { id: string; token: string }
let reviewer: { id: string; token: string }

beforeAll(async () => {
  server = await startServer()
  member = await createUserWithToken(server, { email: 'm@example.com', name: 'Member', roleKeys: ['member'] })
  reviewer = await createUserWithToken(server, { email: 'r@example.com', name: 'Reviewer', roleKeys: ['member'] })
})
afterAll(() => server?.destroy())

const TEST = `query($input: ApprovalRuleInput!, $sample: RequestApprovalInput!, $ruleId: ID) {
  testApprovalRule(input: $input, sample: $sample, ruleId: $ruleId) { gates applies conditionsHold conditionError competingRule { id name } }
}`

const draft = (extra: Record<string, unknown> = {}) => ({
  name: 'Quarterly mail',
  resourceType: 'AGENT_ACTION',
  actionType: 'send_email',
  conditions: { '==': [{ var: 'params.subject' }, 'Quarterly report'] },
  primaryResolver: { type: 'NAMED_USER', userId: reviewer.id },
  ...extra,
})
const email = (subject: string) => ({
  resourceType: 'AGENT_ACTION',
  actionType: 'send_email',
  params: { to: 'board@example.com', subject, body: 'Attached.' },
})
const test = (input: Record<string, unknown>, sample: Record<string, unknown>, token = server.ownerToken, ruleId?: string) =>
  server.gql(TEST, { input, sample, ruleId }, token)
const counts = async () => {
  const res = await server.gql(`{ approvalRules { id version } approvalHistory(first: 100) { edges { node { id } } } }`, {}, server.ownerToken)
  return { rules: res.data.approvalRules, requests: res.data.approvalHistory.edges.length }
}

describe('testApprovalRule', () => {
  it('is for approval managers only', async () => {
    const res = await test(draft(), email('Quarterly report'), member.token)
    expect(codes(res)).toEqual(['FORBIDDEN'])
    expect(res.data).toBeNull()
  })

  it('says whether an unsaved draft would gate the sample, and writes nothing', async () => {
    const before = await counts()
    const holds = await test(draft(), email('Quarterly report'))
    expect(holds.errors).toBeUndefined()
    expect(holds.data.testApprovalRule).toEqual({ gates: true, applies: true, conditionsHold: true, conditionError: null, competingRule: null })

    const fails = await test(draft(), email('Lunch on Friday'))
    expect(fails.data.testApprovalRule).toEqual({ gates: false, applies: false, conditionsHold: false, conditionError: null, competingRule: null })

    // a disabled draft holds but gates nothing
    const disabled = await test(draft({ enabled: false }), email('Quarterly report'))
    expect(disabled.data.testApprovalRule).toMatchObject({ gates: false, applies: false, conditionsHold: true })
    expect(await counts()).toEqual(before)
  })

  it('names the saved rule the draft competes with, and ranks the draft against it', async () => {
    const saved = await createRule(server, {
      name: 'Every email',
      resourceType: 'AGENT_ACTION',
      actionType: 'send_email',
      priority: 5,
      primaryResolver: { type: 'MANAGER' },
    })
    const outranked = await test(draft(), email('Quarterly report'))
    expect(outranked.data.testApprovalRule).toEqual({
      gates: false,
      applies: true,
      conditionsHold: true,
      conditionError: null,
      competingRule: { id: saved.id, name: 'Every email' },
    })
    const first = await test(draft({ priority: 10 }), email('Quarterly report'))
    expect(first.data.testApprovalRule).toMatchObject({ gates: true, competingRule: { name: 'Every email' } })
    // an equal priority goes to the rule with conditions, as matching does
    const tie = await test(draft({ priority: 5 }), email('Quarterly report'))
    expect(tie.data.testApprovalRule).toMatchObject({ gates: true, competingRule: { name: 'Every email' } })

    // editing the saved rule: its saved version does not compete with its draft
    const edit = await test(draft({ name: 'Every email', priority: 5 }), email('Lunch on Friday'), server.ownerToken, saved.id)
    expect(edit.data.testApprovalRule).toEqual({ gates: false, applies: false, conditionsHold: false, conditionError: null, competingRule: null })
    // what it tests is what matchApprovalRule would answer with the draft saved
    const match = await server.gql(`query($input: RequestApprovalInput!) { matchApprovalRule(input: $input) { name } }`, { input: email('Lunch on Friday') }, server.ownerToken)
    expect(match.data.matchApprovalRule).toEqual({ name: 'Every email' })
    await server.gql(`mutation($id: ID!) { deleteApprovalRule(id: $id) }`, { id: saved.id }, server.ownerToken)
  })

  // the drafts are made in the test: the reviewer exists only once beforeAll ran
  it.each([
    ['an unknown operator in the draft', () => draft({ conditions: { teleport: [1] } }), email('Quarterly report'), 'input.conditions', /Unknown operator "teleport"/],
    ['a draft without its reviewer', () => draft({ primaryResolver: { type: 'NAMED_USER' } }), email('Quarterly report'), 'input.primaryResolver.userId', /needs userId/],
    ['a negative expiry', () => draft({ expiresAfterSeconds: -60 }), email('Quarterly report'), 'input.expiresAfterSeconds', /positive/],
    ['sample params the action type refuses', () => draft(), { ...email('x'), params: { to: 'not an address', subject: 'x', body: 'y' } }, 'sample.params', /params\/to/],
    ['a sample of an unknown action type', () => draft(), { ...email('x'), actionType: 'launch_rocket' }, 'sample.actionType', /Unknown action type/],
  ])('refuses %s with BAD_USER_INPUT', async (_name, input, sample, field, message) => {
    const res = await test(input(), sample)
    expect(codes(res)).toEqual(['BAD_USER_INPUT'])
    expect(res.errors![0]!.extensions!.field).toBe(field)
    expect(res.errors![0]!.message).toMatch(message)
  })

  it('answers NOT_FOUND for a ruleId that names no rule', async () => {
    const gone = await createRule(server, { name: 'Gone', resourceType: 'AGENT_ACTION', actionType: 'send_email', primaryResolver: { type: 'MANAGER' } })
    await server.gql(`mutation($id: ID!) { deleteApprovalRule(id: $id) }`, { id: gone.id }, server.ownerToken)
    expect(codes(await test(draft(), email('Quarterly report'), server.ownerToken, gone.id))).toEqual(['NOT_FOUND'])
  })
})
