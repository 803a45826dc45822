import jsonLogic from 'json-logic-js'
import { describe, expect, it } from 'vitest'
import { CONDITION_FIELDS, EMPTY_QUERY, conditionsInWords, fieldsFor, jsonLogicFromQuery, peopleFields, queryFromJsonLogic, similarQuery } from './conditions'

describe('conditions between the builder and JSONLogic', () => {
  it('has no conditions for an empty query', () => {
    expect(jsonLogicFromQuery(EMPTY_QUERY)).toBeNull()
    expect(queryFromJsonLogic(null)).toEqual(EMPTY_QUERY)
  })

  it('writes JSONLogic that the server evaluates as the builder means it', () => {
    const logic = jsonLogicFromQuery({
      combinator: 'and',
      rules: [
        { field: 'params.network', operator: '=', value: 'x' },
        { field: 'params.amount', operator: '>', value: '1000' },
      ],
    })
    expect(jsonLogic.apply(logic as jsonLogic.RulesLogic, { params: { network: 'x', amount: 5000 } })).toBe(true)
    expect(jsonLogic.apply(logic as jsonLogic.RulesLogic, { params: { network: 'x', amount: 10 } })).toBe(false)
    expect(jsonLogic.apply(logic as jsonLogic.RulesLogic, { params: { network: 'y', amount: 5000 } })).toBe(false)
  })

  it('reads a stored rule back into the builder and writes the same logic again', () => {
    const stored = { or: [{ '==': [{ var: 'onBehalfOf.email' }, 'ceo@corp.test'] }, { in: ['@', { var: 'params.to' }] }] }
    const query = queryFromJsonLogic(stored)
    expect(query.combinator).toBe('or')
    expect(query.rules).toHaveLength(2)
    const again = jsonLogicFromQuery(query)
    for (const facts of [{ onBehalfOf: { email: 'ceo@corp.test' }, params: { to: 'x' } }, { onBehalfOf: { email: 'a@b' }, params: { to: 'x@y' } }, { onBehalfOf: { email: 'a@b' }, params: { to: 'x' } }]) {
      expect(jsonLogic.apply(again as jsonLogic.RulesLogic, facts)).toBe(jsonLogic.apply(stored as jsonLogic.RulesLogic, facts))
    }
  })
})

describe('fieldsFor', () => {
  it('adds the facts a stored rule tests that the list lacks, once, and nothing otherwise', () => {
    const query = queryFromJsonLogic({ and: [{ '==': [{ var: 'params.network' }, 'x'] }, { or: [{ '==': [{ var: 'params.network' }, 'y'] }, { '==': [{ var: 'params.to' }, 'a@b.c'] }] }] })
    const fields = fieldsFor(query)
    expect(fields.slice(0, CONDITION_FIELDS.length)).toEqual(CONDITION_FIELDS)
    expect(fields.slice(CONDITION_FIELDS.length)).toEqual([{ name: 'params.network', label: 'params.network' }])
    expect(fieldsFor(EMPTY_QUERY)).toEqual(CONDITION_FIELDS)
  })
})

describe('conditions in words', () => {
  it("reads a rule's JSONLogic in the builder's labels", () => {
    expect(conditionsInWords({ '==': [{ var: 'params.platform' }, 'twitter'] })).toBe("Social: platform is 'twitter'")
    const words = conditionsInWords({
      and: [{ '>': [{ var: 'params.amount' }, 1000] }, { in: ['@acme.com', { var: 'params.to' }] }, { or: [{ '==': [{ var: 'module' }, 'crm'] }, { '!=': [{ var: 'params.tool' }, 'x'] }] }],
    })
    expect(words).toBe("Parameter: amount is greater than 1000, and Email: to contains '@acme.com', and (Module is 'crm', or params.tool is not 'x')")
  })

  it('says nothing of no conditions, or of logic the builder cannot read', () => {
    expect(conditionsInWords(null)).toBeNull()
    expect(conditionsInWords({ '+': [{ var: 'params.amount' }, 1] })).toBeNull()
    expect(conditionsInWords({ some: [{ var: 'params.items' }, { '>': [{ var: 'price' }, 5] }] })).toBe('(at least one item in params.items price is greater than 5)')
  })
})

describe('conditions for requests like this one', () => {
  const agent = { id: 'QWdlbnQ6MQ==', name: 'Outreach agent' }
  const rita = { id: 'VXNlcjox', name: 'Rita' }
  const email = { to: ['lead@customer.example'], subject: 'Spring offer', body: 'Hello,\n\nA long body that differs every time.' }

  it('holds for the same agent, person and short parameters, whatever the long texts say', () => {
    const logic = jsonLogicFromQuery(similarQuery({ requester: agent, onBehalfOf: rita, params: email }))!
    const facts = (over: Record<string, unknown> = {}, params: Record<string, unknown> = {}) => ({
      requester: { id: agent.id, name: agent.name, kind: 'AGENT' },
      onBehalfOf: { id: rita.id, email: 'rita@example.com', roleKeys: [] },
      params: { ...email, body: 'Another body', ...params },
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
    const fields = fieldsFor(query, [...CONDITION_FIELDS, ...peopleFields([agent], [rita])])
    expect(fields.find((f) => f.name === 'requester.id')?.label).toBe('Requester')
  })
})
