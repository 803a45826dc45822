import jsonLogic from 'json-logic-js'
import { describe, expect, it } from 'vitest'
import { CONDITION_FIELDS, EMPTY_QUERY, fieldsFor, jsonLogicFromQuery, queryFromJsonLogic } from './conditions'

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
