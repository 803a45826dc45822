// Conditions mean what their author wrote (issue 23, part 1): the four cases that failed open,
// the refusals that name the condition and the form to use, a fact of the wrong type at run time,
// and rules stored before conditions were typed.
import { formatQuery } from 'react-querybuilder'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { createAgentWithToken, createRule, createUserWithToken, startServer, type TestServer } from './harness.js'

let server: TestServer
let reviewer: { id: string; token: string }
let agent: { id: string; token: string }

beforeAll(async () => {
  server = await startServer()
  reviewer = await createUserWithToken(server, { email: 'rita@acme.com', name: 'Rita', roleKeys: ['member'] })
  const owner = await createUserWithToken(server, { email: 'otto@acme.com', name: 'Otto', roleKeys: ['member'] })
  agent = await createAgentWithToken(server, { name: 'Mailer', ownerId: owner.id })
})
afterAll(() => server?.destroy())

const ASK = `mutation($input: RequestApprovalInput!) { requestApproval(input: $input) { approvalRequired request { id rule { id } conditionError } } }`
const ask = async (actionType: string, params: unknown, context: unknown = null) => {
  const res = await server.gql(ASK, { input: { resourceType: 'AGENT_ACTION', actionType, params, context } }, agent.token)
  expect(res.errors).toBeUndefined()
  const answer = res.data.requestApproval as { approvalRequired: boolean; request: { id: string; rule: { id: string }; conditionError: string | null } | null }
  // the agent is told nothing of the rule's conditions: conditionError is for those who see the rules
  expect(answer.request?.conditionError ?? null).toBeNull()
  if (answer.request) {
    const read = await server.gql(`query($id: ID!) { node(id: $id) { ... on ApprovalRequest { conditionError } } }`, { id: answer.request.id }, server.ownerToken)
    answer.request.conditionError = read.data.node.conditionError
  }
  return answer
}
const email = (to: unknown) => ({ to, subject: 'Offer', body: 'Hello' })
const SAVE = `mutation($input: ApprovalRuleInput!) { createApprovalRule(input: $input) { id conditions conditionWarnings } }`
const save = (actionType: string, conditions: unknown) =>
  server.gql(SAVE, { input: { name: `rule ${Math.random()}`, resourceType: 'AGENT_ACTION', actionType, conditions, primaryResolver: { type: 'NAMED_USER', userId: reviewer.id } } }, server.ownerToken)
const remove = (id: string) => server.gql(`mutation($id: ID!) { deleteApprovalRule(id: $id) }`, { id }, server.ownerToken)

describe('conditions that failed open', () => {
  it('the builder\'s "Email: to contains \'@evil.com\'" gates an email to bob@evil.com: some recipient contains it', async () => {
    // as react-querybuilder writes "contains" (the builder's output before typed facts)
    const written = formatQuery({ combinator: 'and', rules: [{ field: 'params.to', operator: 'contains', value: '@Evil.com' }] }, 'jsonlogic')
    expect(written).toEqual({ and: [{ in: ['@Evil.com', { var: 'params.to' }] }] })
    const saved = await save('send_email', written)
    expect(saved.errors).toBeUndefined()
    const rule = saved.data.createApprovalRule
    expect(rule.conditions).toEqual({ and: [{ some: [{ var: 'params.to' }, { in: ['@evil.com', { var: '' }] }] }] })
    expect(rule.conditionWarnings).toEqual([])
    expect((await ask('send_email', email('bob@evil.com'))).request?.rule.id).toBe(rule.id)
    expect((await ask('send_email', email(['amy@acme.com', 'Bob@EVIL.com']))).request?.rule.id).toBe(rule.id)
    expect((await ask('send_email', email('amy@acme.com'))).approvalRequired).toBe(false)
    await remove(rule.id)
  })

  it('"does not contain \'@acme.com\'" gates an email with an outside recipient, not every internal email', async () => {
    const written = formatQuery({ combinator: 'and', rules: [{ field: 'params.to', operator: 'doesNotContain', value: '@acme.com' }] }, 'jsonlogic')
    const saved = await save('send_email', written)
    expect(saved.errors).toBeUndefined()
    const rule = saved.data.createApprovalRule
    expect(rule.conditions).toEqual({ and: [{ some: [{ var: 'params.to' }, { '!': { in: ['@acme.com', { var: '' }] } }] }] })
    expect((await ask('send_email', email('amy@acme.com'))).approvalRequired).toBe(false)
    expect((await ask('send_email', email(['amy@acme.com', 'rita@acme.com']))).approvalRequired).toBe(false)
    expect((await ask('send_email', email('bob@evil.com'))).request?.rule.id).toBe(rule.id)
    expect((await ask('send_email', email(['amy@acme.com', 'bob@evil.com']))).request?.rule.id).toBe(rule.id)
    await remove(rule.id)
  })

  it('{"==": [{"var": "params.url"}, "https://shop.test"]} matches the agent\'s https://shop.test: the literal is canonical like the fact', async () => {
    const saved = await save('browse_website', { '==': [{ var: 'params.url' }, 'https://Shop.test'] })
    expect(saved.errors).toBeUndefined()
    const rule = saved.data.createApprovalRule
    expect(rule.conditions).toEqual({ '==': [{ var: 'params.url' }, 'https://shop.test/'] })
    expect((await ask('browse_website', { url: 'https://shop.test' })).request?.rule.id).toBe(rule.id)
    expect((await ask('browse_website', { url: 'https://SHOP.test/' })).request?.rule.id).toBe(rule.id)
    expect((await ask('browse_website', { url: 'https://shop.test.evil.com/' })).approvalRequired).toBe(false)
    await remove(rule.id)
  })

  it('the builder\'s "begins with" and "ends with" are saved and gate (no more Unknown operator "endsWith")', async () => {
    for (const operator of ['beginsWith', 'endsWith']) {
      const written = formatQuery({ combinator: 'and', rules: [{ field: 'params.subject', operator, value: 'Offer' }] }, 'jsonlogic')
      const saved = await save('send_email', written)
      expect(saved.errors).toBeUndefined()
      expect((await ask('send_email', email('amy@acme.com'))).request?.rule.id).toBe(saved.data.createApprovalRule.id)
      await remove(saved.data.createApprovalRule.id)
    }
  })

  it('a fact of a type the operator cannot use gates, and conditionError says why (json-logic-js answered false)', async () => {
    const saved = await save('call_tool', { in: ['rm -rf', { var: 'params.arguments.command' }] })
    expect(saved.errors).toBeUndefined()
    const id = saved.data.createApprovalRule.id
    const call = (command: unknown) => ask('call_tool', { server: 'shell', tool: 'run', arguments: { command } })
    for (const command of [{ argv: ['rm', '-rf', '/'] }, 5, true]) {
      const asked = await call(command)
      expect(asked.request?.rule.id).toBe(id)
      expect(asked.request?.conditionError).toMatch(/could not be evaluated: "in" needs text or a list to look in, got (an object|a number|a boolean)/)
    }
    expect((await call('sudo rm -rf /')).request).toMatchObject({ rule: { id }, conditionError: null })
    expect((await call('ls -la')).approvalRequired).toBe(false)
    // a list where text was meant is a list: "rm -rf" is not one of its items
    expect((await call(['rm', '-rf'])).approvalRequired).toBe(false)
    await remove(id)

    const some = await save('call_tool', { some: [{ var: 'context.paths' }, { startsWith: [{ var: '' }, '/etc'] }] })
    const text = await ask('call_tool', { server: 'fs', tool: 'write', arguments: {} }, { paths: '/etc/passwd' })
    expect(text.request).toMatchObject({ rule: { id: some.data.createApprovalRule.id } })
    expect(text.request?.conditionError).toMatch(/"some" needs a list, and context.paths is text/)
    const nested = await ask('call_tool', { server: 'fs', tool: 'write', arguments: {} }, { paths: ['/tmp/x', { path: '/etc' }] })
    expect(nested.request?.conditionError).toMatch(/"startsWith" needs text, got an object/)
    expect((await ask('call_tool', { server: 'fs', tool: 'write', arguments: {} }, { paths: ['/tmp/x'] })).approvalRequired).toBe(false)
    await remove(some.data.createApprovalRule.id)
  })
})

describe('conditions refused when saved, naming the condition and the form to use', () => {
  const refused = async (actionType: string, conditions: unknown, message: RegExp) => {
    const res = await save(actionType, conditions)
    expect(res.errors?.[0]?.extensions).toMatchObject({ code: 'BAD_USER_INPUT', field: 'input.conditions' })
    expect(res.errors?.[0]?.message).toMatch(message)
  }

  it('equality of a list of recipients with one address', () =>
    refused('send_email', { '==': [{ var: 'params.to' }, 'Bob@evil.com'] }, /conditions\.==: params\.to is a list of email addresses.*\{"some": \[\{"var": "params\.to"\}, \{"==": \[\{"var": ""\}, "bob@evil\.com"\]\}\]\}/))
  it('a text operator over a list', () => refused('send_email', { endsWith: [{ var: 'params.cc' }, '@evil.com'] }, /conditions\.endsWith: params\.cc is a list.*"some"/))
  it('ordering of text, and text compared with a number fact', async () => {
    await refused('send_email', { '>': [{ var: 'params.subject' }, 5] }, /"\>" compares numbers, and params\.subject is text/)
    await refused('browse_website', { '==': [{ var: 'params.mayPay' }, 'sometimes'] }, /params\.mayPay is true or false/)
  })
  it('"in" over a number or an object', () => refused('call_tool', { in: ['x', { var: 'params.arguments' }] }, /params\.arguments is an object.*params\.arguments\.<field>/))
  it('a fact no rule of this action type can see', () => refused('send_email', { '==': [{ var: 'requester.nam' }, 'x'] }, /there is no fact "requester\.nam"/))
  it('a pattern RE2 cannot run, or one too long', async () => {
    await refused('send_email', { matches: [{ var: 'params.subject' }, '(?<=a)b'] }, /cannot be used.*RE2/)
    await refused('send_email', { matches: [{ var: 'params.subject' }, 'a'.repeat(201)] }, /at most 200 characters/)
  })
  it('a domain or host that is none', async () => {
    await refused('send_email', { some: [{ var: 'params.to' }, { domainIs: [{ var: '' }, 'not a domain'] }] }, /is not a domain/)
    await refused('browse_website', { hostIs: [{ var: 'params.url' }, 'shop.test/path'] }, /is not a host name/)
  })
})

describe('rules stored before conditions were typed', () => {
  it('are flagged, read as their author meant where the check rewrites them, and keep their conditions through a toggle', async () => {
    // stored as the old builder saved it, before the check existed
    const rule = await createRule(server, { name: 'Outside email', resourceType: 'AGENT_ACTION', actionType: 'send_email', primaryResolver: { type: 'NAMED_USER', userId: reviewer.id } })
    const { id: dbId } = await server.db.prisma.approvalRule.findFirstOrThrow({ where: { name: 'Outside email' }, select: { id: true } })
    const legacy = { and: [{ in: ['@evil.com', { var: 'params.to' }] }, { '==': [{ var: 'params.to' }, 'x@y.z'] }] }
    await server.db.prisma.approvalRule.update({ where: { id: dbId }, data: { conditions: legacy } })
    await server.gql(`mutation($id: ID!, $input: ApprovalRuleInput!) { updateApprovalRule(id: $id, input: $input) { id } }`, {
      id: rule.id,
      input: { name: 'Outside email', resourceType: 'AGENT_ACTION', actionType: 'send_email', conditions: legacy, enabled: false, primaryResolver: { type: 'NAMED_USER', userId: reviewer.id } },
    }, server.ownerToken)
    const read = await server.gql(`query($id: ID!) { approvalRule(id: $id) { enabled conditions conditionWarnings } }`, { id: rule.id }, server.ownerToken)
    // the toggle kept the conditions as stored
    expect(read.data.approvalRule.enabled).toBe(false)
    expect(read.data.approvalRule.conditions).toEqual(legacy)
    expect(read.data.approvalRule.conditionWarnings).toEqual([
      expect.stringMatching(/^Refused if saved today.*conditions\.and\[1\]\.==: params\.to is a list/),
      expect.stringMatching(/^Read as its author meant.*"some recipient contains"/),
    ])
    const list = await server.gql(`{ approvalRules { id conditionWarnings } }`, {}, server.ownerToken)
    expect(list.data.approvalRules.find((r: { id: string }) => r.id === rule.id).conditionWarnings).toHaveLength(2)
    // a change of its conditions is checked
    const edit = await server.gql(`mutation($id: ID!, $input: ApprovalRuleInput!) { updateApprovalRule(id: $id, input: $input) { id } }`, {
      id: rule.id,
      input: { name: 'Outside email', resourceType: 'AGENT_ACTION', actionType: 'send_email', conditions: { ...legacy, and: [...legacy.and, { '==': [1, 1] }] }, primaryResolver: { type: 'NAMED_USER', userId: reviewer.id } },
    }, server.ownerToken)
    expect(edit.errors?.[0]?.extensions?.code).toBe('BAD_USER_INPUT')
    await remove(rule.id)
  })

  it('"to contains" stored before the check gates an email to bob@evil.com at once', async () => {
    const rule = await createRule(server, { name: 'Evil', resourceType: 'AGENT_ACTION', actionType: 'send_email', primaryResolver: { type: 'NAMED_USER', userId: reviewer.id } })
    const { id: dbId } = await server.db.prisma.approvalRule.findFirstOrThrow({ where: { name: 'Evil' }, select: { id: true } })
    await server.db.prisma.approvalRule.update({ where: { id: dbId }, data: { conditions: { in: ['@evil.com', { var: 'params.to' }] } } })
    // changed behind the service's back: the rule set's version tells a warm cache it is stale
    await server.db.prisma.ruleSet.update({ where: { id: 1 }, data: { version: { increment: 1 } } })
    expect((await ask('send_email', email('bob@evil.com'))).request?.rule.id).toBe(rule.id)
    expect((await ask('send_email', email('amy@acme.com'))).approvalRequired).toBe(false)
    await remove(rule.id)
  })
})

describe('who may read the facts', () => {
  it('an agent reads no rule conditions and no warnings', async () => {
    const rule = await createRule(server, { name: 'Hidden', resourceType: 'AGENT_ACTION', actionType: 'send_email', primaryResolver: { type: 'NAMED_USER', userId: reviewer.id } })
    const res = await server.gql(`query($id: ID!) { approvalRule(id: $id) { conditionWarnings } }`, { id: rule.id }, agent.token)
    expect(res.errors?.[0]?.extensions?.code).toBe('FORBIDDEN')
    await remove(rule.id)
  })
})

describe("the README's three examples, as the builder saves them", () => {
  it('email outside the company; a shop with payment allowed; destructive filesystem calls', async () => {
    const outside = await save('send_email', { and: [{ some: [{ var: 'params.to' }, { '!': { domainIs: [{ var: '' }, 'acme.com'] } }] }] })
    expect((await ask('send_email', email(['amy@acme.com', 'bob@evil.com']))).request?.rule.id).toBe(outside.data.createApprovalRule.id)
    expect((await ask('send_email', email('amy@acme.com'))).approvalRequired).toBe(false)
    await remove(outside.data.createApprovalRule.id)

    const shop = await save('browse_website', { and: [{ hostUnder: [{ var: 'params.url' }, 'shop.example'] }, { '==': [{ var: 'params.mayPay' }, true] }] })
    expect((await ask('browse_website', { url: 'https://checkout.shop.example/cart', mayPay: true })).request?.rule.id).toBe(shop.data.createApprovalRule.id)
    expect((await ask('browse_website', { url: 'https://shop.example.evil.com/', mayPay: true })).approvalRequired).toBe(false)
    await remove(shop.data.createApprovalRule.id)

    const tool = await save('call_tool', {
      and: [{ '==': [{ var: 'params.server' }, 'filesystem'] }, { '==': [{ var: 'context.tool.annotations.destructiveHint' }, true] }, { startsWith: [{ var: 'params.arguments.path' }, '/etc'] }],
    })
    const call = (path: unknown, destructiveHint: boolean) => ask('call_tool', { server: 'filesystem', tool: 'write_file', arguments: { path } }, { tool: { annotations: { destructiveHint } } })
    expect((await call('/etc/hosts', true)).request?.rule.id).toBe(tool.data.createApprovalRule.id)
    expect((await call(['/etc/hosts'], true)).request?.conditionError).toMatch(/"startsWith" needs text, got a list/)
    expect((await call('/tmp/x', true)).approvalRequired).toBe(false)
    expect((await call('/etc/hosts', false)).approvalRequired).toBe(false)
    await remove(tool.data.createApprovalRule.id)
  })
})
