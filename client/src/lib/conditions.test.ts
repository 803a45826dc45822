import jsonLogic from 'json-logic-js'
import { describe, expect, it } from 'vitest'
import { EMPTY_QUERY, OPERATOR_LABELS, conditionsInWords, fieldsFor, fieldsOf, jsonLogicFromQuery, queryFromJsonLogic, readsBack, similarQuery, type ConditionFact } from './conditions'

// as the server offers them for send_email (ActionType.conditionFacts), in part
const FACTS: ConditionFact[] = [
  { path: 'params.to', label: 'Email: to', kind: 'ADDRESS_LIST', operators: ['someIs', 'noneIs', 'someContains', 'noneContains', 'someEndsWith', 'someDomainIs', 'noneDomainIs', 'someDomainIsNot'] },
  { path: 'params.subject', label: 'Email: subject', kind: 'TEXT', operators: ['=', '!=', 'contains', 'beginsWith', 'endsWith', 'matches', 'doesNotMatch'] },
  { path: 'params.amount', label: 'Parameter: amount', kind: 'NUMBER', operators: ['=', '>', 'between'] },
  { path: 'params.mayPay', label: 'Browse: may pay', kind: 'BOOLEAN', operators: ['=', '!='] },
  { path: 'onBehalfOf.roleKeys', label: 'On behalf of (roles)', kind: 'TEXT_LIST', operators: ['includes', 'doesNotInclude'] },
  { path: 'requester.id', label: 'Requester', kind: 'ID', operators: ['=', '!='] },
]
const fields = fieldsOf(FACTS)

describe('conditions between the builder and JSONLogic', () => {
  it('has no conditions for an empty query', () => {
    expect(jsonLogicFromQuery(EMPTY_QUERY)).toBeNull()
    expect(queryFromJsonLogic(null)).toEqual(EMPTY_QUERY)
  })

  it('labels every operator and writes ours in our JSONLogic', () => {
    for (const fact of FACTS) for (const op of fact.operators) expect(OPERATOR_LABELS[op], op).toBeTruthy()
    const logic = jsonLogicFromQuery(
      {
        combinator: 'and',
        rules: [
          { field: 'params.to', operator: 'someDomainIsNot', value: 'acme.com' },
          { field: 'params.amount', operator: '>', value: '1000' },
          { field: 'params.mayPay', operator: '=', value: 'true' },
          { field: 'onBehalfOf.roleKeys', operator: 'includes', value: 'manager' },
          { field: 'params.subject', operator: 'doesNotMatch', value: '^re:' },
        ],
      },
      fields,
    )
    expect(logic).toEqual({
      and: [
        { some: [{ var: 'params.to' }, { '!': { domainIs: [{ var: '' }, 'acme.com'] } }] },
        { '>': [{ var: 'params.amount' }, 1000] },
        { '==': [{ var: 'params.mayPay' }, true] },
        { in: ['manager', { var: 'onBehalfOf.roleKeys' }] },
        { '!': { matches: [{ var: 'params.subject' }, '^re:'] } },
      ],
    })
  })

  it('reads every operator it writes back into the builder', () => {
    for (const fact of FACTS) {
      for (const operator of fact.operators) {
        const value = fact.kind === 'NUMBER' ? (operator === 'between' ? '1,5' : '3') : fact.kind === 'BOOLEAN' ? 'true' : 'x@acme.com'
        const query = { combinator: 'and', rules: [{ field: fact.path, operator, value }] }
        const logic = jsonLogicFromQuery(query, fields)
        expect(readsBack(logic, fields), `${fact.path} ${operator}: ${JSON.stringify(logic)}`).toBe(true)
        expect(queryFromJsonLogic(logic, fields).rules[0]).toMatchObject({ field: fact.path, operator })
      }
    }
  })

  it('says when the builder cannot show stored conditions whole (the editor then shows JSONLogic, never a cut-down rule)', () => {
    expect(readsBack({ '+': [{ var: 'params.amount' }, 1] }, fields)).toBe(false)
    expect(readsBack({ some: [{ var: 'params.to' }, { '>': [{ var: 'x' }, 1] }] }, fields)).toBe(false)
    expect(readsBack({ and: [{ '==': [{ var: 'params.subject' }, 'Hi'] }] }, fields)).toBe(true)
    expect(readsBack({ '==': [{ var: 'params.subject' }, 'Hi'] }, fields)).toBe(true)
  })

  it('reads "contains" over a list as the server does: membership for keys, some item for addresses', () => {
    const query = queryFromJsonLogic({ and: [{ in: ['manager', { var: 'onBehalfOf.roleKeys' }] }, { in: ['@evil.com', { var: 'params.to' }] }] }, fields)
    expect(query.rules).toMatchObject([
      { field: 'onBehalfOf.roleKeys', operator: 'includes' },
      { field: 'params.to', operator: 'someContains', value: '@evil.com' },
    ])
  })

  it('shows a fact it was not offered (a rule written through the API) under its own name, untyped', () => {
    const query = queryFromJsonLogic({ '==': [{ var: 'params.network' }, 'x'] }, fields)
    const all = fieldsFor(query, fields)
    expect(all.slice(0, fields.length)).toEqual(fields)
    expect(all.at(-1)).toMatchObject({ name: 'params.network', label: 'Parameter: network', kind: 'ANY' })
  })
})

describe('conditions in words', () => {
  it("reads a rule's JSONLogic in the builder's labels", () => {
    expect(conditionsInWords({ some: [{ var: 'params.to' }, { domainIs: [{ var: '' }, 'evil.com'] }] }, fields)).toBe("Email: to has one with the domain 'evil.com'")
    const words = conditionsInWords({ and: [{ '>': [{ var: 'params.amount' }, 1000] }, { or: [{ '==': [{ var: 'module' }, 'crm'] }, { '!=': [{ var: 'params.tool' }, 'x'] }] }] }, fields)
    expect(words).toBe("Parameter: amount is greater than 1000, and (module is 'crm', or Parameter: tool is not 'x')")
  })

  it('says nothing of no conditions, or of logic the builder cannot read whole', () => {
    expect(conditionsInWords(null)).toBeNull()
    expect(conditionsInWords({ '+': [{ var: 'params.amount' }, 1] })).toBeNull()
  })
})

describe('conditions for requests like this one', () => {
  const agent = { id: 'QWdlbnQ6MQ==', name: 'Outreach agent' }
  const rita = { id: 'VXNlcjox', name: 'Rita' }
  const email = { to: ['Lead@customer.example'], subject: 'Spring offer', body: 'Hello,\n\nA long body that differs every time.' }

  it('holds for the same agent, person and short parameters, whatever the long texts say', () => {
    const logic = jsonLogicFromQuery(similarQuery({ requester: agent, onBehalfOf: rita, params: email }, FACTS), fields)!
    const facts = (over: Record<string, unknown> = {}, params: Record<string, unknown> = {}) => ({
      requester: { id: agent.id, name: agent.name, kind: 'AGENT' },
      onBehalfOf: { id: rita.id, email: 'rita@example.com', roleKeys: [] },
      params: { ...email, to: ['lead@customer.example'], body: 'Another body', ...params },
      ...over,
    })
    expect(jsonLogic.apply(logic, facts())).toBe(true)
    expect(jsonLogic.apply(logic, facts({}, { to: ['someone@else.example', 'lead@customer.example'] }))).toBe(true)
    expect(jsonLogic.apply(logic, facts({}, { to: ['someone@else.example'] }))).toBe(false)
    expect(jsonLogic.apply(logic, facts({}, { subject: 'Winter offer' }))).toBe(false)
    expect(jsonLogic.apply(logic, facts({ requester: { id: 'QWdlbnQ6Mg==', name: 'Other', kind: 'AGENT' } }))).toBe(false)
    expect(jsonLogic.apply(logic, facts({ onBehalfOf: null }))).toBe(false)
  })

  it('reads back in the builder with the people by name', () => {
    const query = similarQuery({ requester: agent, onBehalfOf: null, params: { recordId: 'UmVjb3JkOjE=', data: { tier: 'gold' } } })
    expect(query.rules).toEqual([
      { field: 'requester.id', operator: '=', value: agent.id },
      { field: 'params.recordId', operator: '=', value: 'UmVjb3JkOjE=' },
    ])
    const people = fieldsOf(FACTS, { agents: [agent], users: [rita] })
    expect(fieldsFor(query, people).find((f) => f.name === 'requester.id')).toMatchObject({ label: 'Requester', values: [{ name: agent.id, label: agent.name }, { name: rita.id, label: rita.name }] })
  })
})
