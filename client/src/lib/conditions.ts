// The rule editor's conditions: react-querybuilder's query, read from and written to JSONLogic.
import { formatQuery, isRuleGroup, type Field, type RuleGroupType } from 'react-querybuilder'
import { parseJsonLogic } from 'react-querybuilder/parseJsonLogic'

/** The facts a rule's conditions can test (see the API contract). */
export const CONDITION_FIELDS: Field[] = [
  { name: 'module', label: 'Module' },
  { name: 'recordId', label: 'Record ID' },
  { name: 'requester.name', label: 'Requester name' },
  { name: 'requester.kind', label: 'Requester kind', valueEditorType: 'select', values: [{ name: 'AGENT', label: 'Agent' }, { name: 'USER', label: 'User' }] },
  { name: 'onBehalfOf.email', label: 'On behalf of (email)' },
  { name: 'onBehalfOf.roleKeys', label: 'On behalf of (roles)' },
  { name: 'params.to', label: 'Email: to' },
  { name: 'params.subject', label: 'Email: subject' },
  { name: 'params.amount', label: 'Parameter: amount', inputType: 'number' },
  { name: 'params.url', label: 'Parameter: url' },
  { name: 'params.platform', label: 'Social: platform' },
  { name: 'params.data.value', label: 'Record: value', inputType: 'number' },
  { name: 'context.campaign', label: 'Context: campaign' },
]

export const EMPTY_QUERY: RuleGroupType = { combinator: 'and', rules: [] }

/** JSONLogic (as stored on a rule) to the builder's query; see fieldsFor for facts CONDITION_FIELDS lacks. */
export function queryFromJsonLogic(logic: unknown): RuleGroupType {
  if (!logic || typeof logic !== 'object') return EMPTY_QUERY
  return parseJsonLogic(logic as Parameters<typeof parseJsonLogic>[0])
}

/** The builder's query to JSONLogic; null when it has no rules (the rule then has no conditions). */
export function jsonLogicFromQuery(query: RuleGroupType): object | null {
  if (query.rules.length === 0) return null
  const logic = formatQuery(query, 'jsonlogic')
  return logic && typeof logic === 'object' && Object.keys(logic).length > 0 ? (logic as object) : null
}

/**
 * The builder's fields for a query: `fields`, and every other fact the query tests (a rule written
 * through the API) under its own name, so that the builder shows it as it is instead of the
 * first field of the list.
 */
export function fieldsFor(query: RuleGroupType, fields: Field[] = CONDITION_FIELDS): Field[] {
  const known = new Set(fields.map((f) => f.name))
  const extra: Field[] = []
  const visit = (group: RuleGroupType) => {
    for (const rule of group.rules) {
      if (typeof rule === 'string') continue
      if (isRuleGroup(rule)) visit(rule as RuleGroupType)
      else if (!known.has(rule.field)) {
        known.add(rule.field)
        extra.push({ name: rule.field, label: rule.field })
      }
    }
  }
  visit(query)
  return [...fields, ...extra]
}
