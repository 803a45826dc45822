// Every condition the rule builder can make, made the way the inbox makes it: for every action
// type (the built-ins and a custom one), every fact the server offers for it and every operator
// it offers for that fact, the builder's query is written by the inbox's own jsonLogicFromQuery
// (react-querybuilder's formatQuery with our operators), saved through the API, and then an
// action that should match is gated by it and one that should not is not.
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { ANY_OPERATORS, OPERATOR_LABELS, fieldsOf, jsonLogicFromQuery, queryFromJsonLogic, readsBack, type ConditionFact } from '../../client/src/lib/conditions.js'
import { BUILDER_OPERATORS } from '../src/approvals/condition-facts.js'
import { createAgentWithToken, createRule, createUserWithToken, startServer, type TestServer } from './harness.js'

let server: TestServer
const people: Record<'bob' | 'amy' | 'rita', { id: string; token: string }> = {} as never
const agents: Record<string, { id: string; token: string }> = {}
const records: string[] = []

const A_TEXT = 'Spring offer'
const B_TEXT = 'Winter sale'
const BOB = 'bob@evil.com'
const AMY = 'amy@acme.com'

const INVOICE_SCHEMA = {
  type: 'object',
  required: ['amount', 'payee'],
  properties: {
    amount: { type: 'number' },
    currency: { enum: ['EUR', 'USD'] },
    payee: { type: 'string', format: 'email' },
    urgent: { type: 'boolean' },
    tags: { type: 'array', items: { type: 'string' } },
    invoiceUrl: { type: 'string', format: 'uri' },
    note: { type: 'string' },
    dueAt: { type: 'string', format: 'date-time' },
    meta: { type: 'object' },
  },
}

beforeAll(async () => {
  // some two thousand actions asked in a few minutes: above the per-principal limit of a real deployment
  server = await startServer({ rateLimitPerMinute: 100_000 })
  people.bob = await createUserWithToken(server, { email: BOB, name: 'Bob', roleKeys: ['member'] })
  people.amy = await createUserWithToken(server, { email: AMY, name: 'Amy', roleKeys: ['member', 'manager'] })
  people.rita = await createUserWithToken(server, { email: 'rita@corp.test', name: 'Rita', roleKeys: ['member'] })
  for (const name of [A_TEXT, B_TEXT]) {
    const created = await server.gql(
      `mutation($input: CreateAgentInput!) { createAgent(input: $input) { id } }`,
      { input: { name, ownerId: people.bob.id, actsForUserIds: [people.amy.id] } },
      server.ownerToken,
    )
    const id = created.data.createAgent.id
    const token = await server.gql(`mutation($id: ID!) { createApiToken(principalId: $id, name: "t") { token } }`, { id }, server.ownerToken)
    agents[name] = { id, token: token.data.createApiToken.token }
  }
  for (const module of ['deals', 'leads']) {
    const res = await server.gql(`mutation($input: CreateRecordInput!) { createRecord(input: $input) { record { id } } }`, { input: { module, data: { note: 'x' } } }, people.bob.token)
    records.push(res.data.createRecord.record.id)
  }
  const custom = await server.gql(
    `mutation($input: ActionTypeInput!) { createActionType(input: $input) { key } }`,
    { input: { key: 'pay_invoice', description: 'Pay an invoice', paramsSchema: INVOICE_SCHEMA } },
    server.ownerToken,
  )
  expect(custom.errors).toBeUndefined()
  void createAgentWithToken
})
afterAll(() => server?.destroy())

/** An action to ask about: who asks, for whom, and what. */
interface Situation {
  token: string
  onBehalfOfUserId?: string
  module?: string
  recordId?: string
  params: Record<string, unknown>
  context: Record<string, unknown> | null
}

const ABSENT = Symbol('absent')
type Value = unknown

/** Two values of a fact (A and B, B not containing A), and what each operator makes of them: the literal, a value it holds for, one it does not. */
interface Pair {
  a: Value
  b: Value
}

/** A part of an item: an address's domain with its @, a URL's last segment, the middle of a text. */
const containedIn = (kind: string, item: string) => (kind === 'ADDRESS_LIST' ? '@' + item.split('@')[1] : kind === 'URL_LIST' ? item.slice(item.lastIndexOf('/')) : item.slice(1, -1))

const escapeRegExp = (s: string) => s.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')

/** The literal and the fact values that should and should not match, for one operator over a pair. */
function sample(kind: string, op: string, pair: Pair): { value: unknown; match: Value; miss: Value } | undefined {
  const { a, b } = pair
  const text = (v: Value) => String(v)
  const list = (v: Value) => [b, v]
  switch (op) {
    case '=':
      return { value: kind === 'BOOLEAN' ? String(a) : a, match: a, miss: b }
    case '!=':
      return { value: kind === 'BOOLEAN' ? String(a) : a, match: b, miss: a }
    case 'contains':
    case 'beginsWith':
    case 'endsWith':
      return { value: a, match: a, miss: b }
    case 'doesNotContain':
    case 'doesNotBeginWith':
    case 'doesNotEndWith':
      return { value: a, match: b, miss: a }
    case 'in':
      return { value: text(a), match: a, miss: b }
    case 'notIn':
      return { value: text(a), match: b, miss: a }
    case 'matches':
      return { value: `^${escapeRegExp(text(a))}$`, match: a, miss: b }
    case 'doesNotMatch':
      return { value: `^${escapeRegExp(text(a))}$`, match: b, miss: a }
    case 'null':
      return { value: '', match: ABSENT, miss: kind.endsWith('_LIST') ? [b] : a }
    case 'notNull':
      return { value: '', match: kind.endsWith('_LIST') ? [b] : a, miss: ABSENT }
    case '<':
      return { value: 100, match: 5, miss: 1000 }
    case '<=':
      return { value: 5, match: 5, miss: 1000 }
    case '>':
      return { value: 100, match: 1000, miss: 5 }
    case '>=':
      return { value: 1000, match: 1000, miss: 5 }
    case 'between':
      return { value: '100,2000', match: 1000, miss: 5 }
    case 'notBetween':
      return { value: '100,2000', match: 5, miss: 1000 }
    case 'domainIs':
      return { value: text(a).split('@')[1]!.toUpperCase(), match: a, miss: b }
    case 'domainIsNot':
      return { value: text(a).split('@')[1], match: b, miss: a }
    case 'hostIs':
      return { value: new URL(text(a)).hostname, match: a, miss: b }
    case 'hostIsNot':
      return { value: new URL(text(a)).hostname, match: b, miss: a }
    case 'hostUnder':
      return { value: new URL(text(a)).hostname.split('.').slice(-2).join('.'), match: a, miss: b }
    case 'hostNotUnder':
      return { value: new URL(text(a)).hostname.split('.').slice(-2).join('.'), match: b, miss: a }
    // over lists: A among others, or only B
    case 'includes':
    case 'someIs':
      return { value: a, match: list(a), miss: [b] }
    case 'doesNotInclude':
    case 'noneIs':
      return { value: a, match: [b], miss: list(a) }
    case 'someContains':
      return { value: containedIn(kind, text(a)), match: list(a), miss: [b] }
    case 'noneContains':
      return { value: containedIn(kind, text(a)), match: [b], miss: list(a) }
    case 'someBeginsWith':
      return { value: text(a).slice(0, 3), match: list(a), miss: [b] }
    case 'someEndsWith':
      return { value: kind === 'ADDRESS_LIST' ? '@' + text(a).split('@')[1] : text(a).slice(-3), match: list(a), miss: [b] }
    case 'someDomainIs':
      return { value: text(a).split('@')[1], match: list(a), miss: [b] }
    case 'noneDomainIs':
      return { value: text(a).split('@')[1], match: [b], miss: list(a) }
    case 'someDomainIsNot':
      return { value: text(b).split('@')[1], match: list(a), miss: [b] }
    case 'someHostIs':
      return { value: new URL(text(a)).hostname, match: list(a), miss: [b] }
    case 'someHostUnder':
      return { value: new URL(text(a)).hostname.split('.').slice(-2).join('.'), match: list(a), miss: [b] }
    case 'noneHostUnder':
      return { value: new URL(text(a)).hostname.split('.').slice(-2).join('.'), match: [b], miss: list(a) }
    default:
      return undefined
  }
}

/** Values of each kind of fact, as an agent would send them (mixed case where the facts are canonical). */
const PAIRS: Record<string, Pair> = {
  TEXT: { a: A_TEXT, b: B_TEXT },
  DATETIME: { a: '2026-03-01T10:00:00Z', b: '2027-01-01T00:00:00Z' },
  ADDRESS: { a: BOB, b: AMY },
  URL: { a: 'https://WWW.Shop.test/a?x=1', b: 'https://shop.test.evil.com/' },
  NUMBER: { a: 1000, b: 5 },
  BOOLEAN: { a: true, b: false },
  ADDRESS_LIST: { a: 'Bob@Evil.com', b: 'amy@acme.com' },
  URL_LIST: { a: 'https://IMG.cdn.test/a.png', b: 'https://other.test/b.png' },
  TEXT_LIST: { a: 'manager', b: 'member' },
  ANY: { a: A_TEXT, b: B_TEXT },
  OBJECT: { a: { name: 'x' }, b: { name: 'y' } },
}

const BASE_PARAMS: Record<string, () => Record<string, unknown>> = {
  send_email: () => ({ to: 'x@corp.test', subject: 'Hi', body: 'Hello' }),
  post_to_social: () => ({ text: 'hello' }),
  create_landing_page: () => ({ title: 'Page' }),
  browse_website: () => ({ url: 'https://example.test/' }),
  call_tool: () => ({ server: 'fs', tool: 'read', arguments: {} }),
  create_record: () => ({ module: 'deals', data: { x: 1 } }),
  update_record: () => ({ recordId: records[0], data: { x: 2 } }),
  pay_invoice: () => ({ amount: 10, payee: 'x@corp.test' }),
}

function setPath(target: Record<string, unknown>, path: string[], value: Value) {
  let node = target
  for (const key of path.slice(0, -1)) node = (node[key] ??= {}) as Record<string, unknown>
  if (value === ABSENT) delete node[path.at(-1)!]
  else node[path.at(-1)!] = value
}

const userByEmail = (email: unknown) => (email === BOB ? people.bob : email === AMY ? people.amy : undefined)
const userByRoles = (roles: unknown) => (JSON.stringify(roles) === JSON.stringify(['member']) ? people.bob : JSON.stringify(roles) === JSON.stringify(['member', 'manager']) ? people.amy : undefined)

/** The pair a fact's values are drawn from; request facts take what the directory holds. */
function pairFor(fact: ConditionFact, op: string, actionType: string): Pair {
  if (fact.kind === 'ANY' && (op === '<' || op === '>')) return PAIRS.NUMBER!
  if (fact.choices) return { a: fact.choices[0], b: fact.choices[1] }
  switch (fact.path) {
    case 'requester.id':
      return { a: agents[A_TEXT]!.id, b: agents[B_TEXT]!.id }
    case 'onBehalfOf.id':
      return { a: people.amy.id, b: people.bob.id }
    case 'onBehalfOf.roleKeys':
      return { a: 'manager', b: 'member' }
    case 'recordId':
    case 'params.recordId':
      return { a: records[0], b: records[1] }
    case 'params.ownerId':
      return { a: people.bob.id, b: people.amy.id }
    case 'module':
      return { a: 'deals', b: 'leads' }
    case 'params.attachments':
      return { a: [{ name: 'offer.pdf' }], b: [] }
  }
  return PAIRS[fact.kind] ?? PAIRS.TEXT!
}

/** The action in which `fact` has `value` (the rest as in a plain action of the type); undefined when no such action can be asked. */
function situation(actionType: string, fact: ConditionFact, value: Value): Situation | undefined {
  const s: Situation = { token: agents[A_TEXT]!.token, onBehalfOfUserId: people.bob.id, params: BASE_PARAMS[actionType]!(), context: null }
  const [root, ...rest] = fact.path.split('.')
  switch (root) {
    case 'params':
      setPath(s.params, rest, value)
      if (fact.path === 'params.module') s.module = value as string
      if (fact.path === 'params.ownerId' && value !== ABSENT && value !== people.bob.id) return undefined // an owner change needs record:manage
      return s
    case 'context':
      s.context = {}
      setPath(s.context, rest, value)
      return s
    case 'requester':
      if (fact.path === 'requester.kind') return value === 'USER' ? { ...s, token: people.bob.token, onBehalfOfUserId: undefined } : s
      if (value === ABSENT) return undefined
      return { ...s, token: agents[fact.path === 'requester.id' ? (value === agents[A_TEXT]!.id ? A_TEXT : B_TEXT) : (value as string)]?.token ?? '' }
    case 'onBehalfOf': {
      const user = fact.path === 'onBehalfOf.id' ? [people.amy, people.bob].find((p) => p.id === value) : fact.path === 'onBehalfOf.email' ? userByEmail(value) : userByRoles(value)
      return user ? { ...s, onBehalfOfUserId: user.id } : undefined
    }
    case 'module':
      if (actionType === 'create_record') return value === ABSENT ? undefined : { ...s, module: value as string, params: { ...s.params, module: value } }
      // an update's module is its record's
      if (actionType === 'update_record') return value === ABSENT ? undefined : { ...s, params: { ...s.params, recordId: records[value === 'deals' ? 0 : 1] } }
      return value === ABSENT ? s : { ...s, module: value as string }
    case 'recordId':
      if (actionType === 'create_record') return value === ABSENT ? s : undefined
      if (actionType === 'update_record') return value === ABSENT ? undefined : { ...s, params: { ...s.params, recordId: value } }
      return value === ABSENT ? s : { ...s, recordId: value as string }
  }
  return undefined
}

const ASK = `mutation($input: RequestApprovalInput!) { requestApproval(input: $input) { approvalRequired request { rule { id } conditionError } } }`

async function gatedBy(actionType: string, resourceType: string, s: Situation): Promise<{ ruleId: string | null; error?: string }> {
  const input = {
    resourceType,
    actionType,
    params: s.params,
    context: s.context,
    module: s.module,
    recordId: resourceType === 'AGENT_ACTION' ? s.recordId : undefined,
    onBehalfOfUserId: s.onBehalfOfUserId,
  }
  const res = await server.gql(ASK, { input }, s.token)
  if (res.errors) return { ruleId: null, error: res.errors[0]!.message }
  return { ruleId: res.data.requestApproval.approvalRequired ? res.data.requestApproval.request.rule.id : null }
}

const ACTION_TYPES = ['send_email', 'post_to_social', 'create_landing_page', 'browse_website', 'call_tool', 'create_record', 'update_record', 'pay_invoice']

describe('every condition the rule builder makes gates what it says', () => {
  for (const actionType of ACTION_TYPES) {
    it(`${actionType}: every fact and every operator offered`, { timeout: 240_000 }, async () => {
      const read = await server.gql(`query($key: String!) { actionType(key: $key) { resourceType conditionFacts { path label kind operators choices } } }`, { key: actionType }, server.ownerToken)
      const { resourceType, conditionFacts } = read.data.actionType as { resourceType: string; conditionFacts: ConditionFact[] }
      const fields = fieldsOf(conditionFacts)
      const failures: string[] = []
      let checked = 0
      for (const fact of conditionFacts) {
        for (const op of fact.operators) {
          const pair = pairFor(fact, op, actionType)
          const plan = sample(fact.kind, op, pair)
          if (!plan) {
            failures.push(`${fact.path} ${op}: the test has no sample for this operator`)
            continue
          }
          const logic = jsonLogicFromQuery({ combinator: 'and', rules: [{ field: fact.path, operator: op, value: plan.value }] }, fields)
          if (!readsBack(logic, fields)) failures.push(`${fact.path} ${op}: the builder does not read back ${JSON.stringify(logic)} (got ${JSON.stringify(queryFromJsonLogic(logic, fields))})`)
          const saved = await server.gql(
            `mutation($input: ApprovalRuleInput!) { createApprovalRule(input: $input) { id conditions conditionWarnings } }`,
            { input: { name: `${fact.path} ${op}`, resourceType, actionType, conditions: logic, primaryResolver: { type: 'NAMED_USER', userId: people.rita.id } } },
            server.ownerToken,
          )
          if (saved.errors) {
            failures.push(`${fact.path} ${op}: save refused ${JSON.stringify(logic)}: ${saved.errors[0]!.message}`)
            continue
          }
          const rule = saved.data.createApprovalRule
          if (rule.conditionWarnings.length > 0) failures.push(`${fact.path} ${op}: saved with warnings ${rule.conditionWarnings.join('; ')}`)
          let halves = 0
          for (const [expected, value] of [
            [true, plan.match],
            [false, plan.miss],
          ] as const) {
            const s = situation(actionType, fact, value)
            if (!s) continue
            halves++
            const got = await gatedBy(actionType, resourceType, s)
            if (got.error) failures.push(`${fact.path} ${op} ${JSON.stringify(plan.value)}: asking with ${String(value === ABSENT ? 'nothing' : JSON.stringify(value))} failed: ${got.error}`)
            else if ((got.ruleId === rule.id) !== expected) {
              failures.push(`${fact.path} ${op} ${JSON.stringify(plan.value)} (${JSON.stringify(rule.conditions)}): ${value === ABSENT ? 'nothing' : JSON.stringify(value)} should ${expected ? '' : 'not '}be gated`)
            }
          }
          if (halves === 0) failures.push(`${fact.path} ${op}: no action could be asked`)
          checked += halves
          await server.gql(`mutation($id: ID!) { deleteApprovalRule(id: $id) }`, { id: rule.id }, server.ownerToken)
        }
      }
      expect(failures).toEqual([])
      expect(checked).toBeGreaterThan(conditionFacts.length)
    })
  }

  it('the builder knows every operator the server offers, and offers a tool argument or record field the operators of an untyped fact', () => {
    for (const op of Object.values(BUILDER_OPERATORS).flat()) expect(OPERATOR_LABELS[op], op).toBeTruthy()
    expect(ANY_OPERATORS).toEqual(BUILDER_OPERATORS.ANY)
  })

  it('offers each action type its own facts: a tool call is offered server, tool and the tool’s annotations, not an email’s recipients', async () => {
    const read = await server.gql(`{ actionTypes { key conditionFacts { path } } }`, {}, server.ownerToken)
    const paths = (key: string) => (read.data.actionTypes as { key: string; conditionFacts: { path: string }[] }[]).find((a) => a.key === key)!.conditionFacts.map((f) => f.path)
    expect(paths('call_tool')).toEqual(expect.arrayContaining(['params.server', 'params.tool', 'context.tool.annotations.destructiveHint']))
    expect(paths('call_tool')).not.toContain('params.to')
    expect(paths('send_email')).toEqual(expect.arrayContaining(['params.to', 'params.cc', 'params.subject']))
    expect(paths('pay_invoice')).toEqual(expect.arrayContaining(['params.amount', 'params.currency', 'params.payee', 'params.tags', 'params.invoiceUrl']))
  })
})
