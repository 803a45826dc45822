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

/**
 * A rule's conditions in the builder's words ("Email: to contains '@acme.com', and Parameter:
 * amount is greater than 1000"), for reviewers; null when there are none, or when the builder
 * cannot read them (then the JSONLogic is all there is to show).
 */
export function conditionsInWords(logic: unknown): string | null {
  let query: RuleGroupType
  try {
    query = queryFromJsonLogic(logic)
  } catch {
    return null
  }
  if (query.rules.length === 0) return null
  const words = formatQuery(query, { format: 'natural_language', fields: fieldsFor(query), parseNumbers: true, translations: { groupSuffix: '' } })
  return words.trim() || null
}

type Person = { id: string; name: string }

/**
 * The facts about people, as choices among the people and agents one can see: who asks
 * (`requester.id`) and for whom (`onBehalfOf.id`), tested by identity rather than by name.
 */
export function peopleFields(agents: Person[], users: Person[]): Field[] {
  const choices = (people: Person[]) => people.map((p) => ({ name: p.id, label: p.name }))
  return [
    { name: 'requester.id', label: 'Requester', valueEditorType: 'select', values: choices([...agents, ...users]), operators: [{ name: '=', label: 'is' }, { name: '!=', label: 'is not' }] },
    { name: 'onBehalfOf.id', label: 'On behalf of', valueEditorType: 'select', values: choices(users), operators: [{ name: '=', label: 'is' }, { name: '!=', label: 'is not' }] },
  ]
}

/** Values longer than this say what this request is, not what requests like it share. */
const MAX_SIMILAR_TEXT = 120
/** The prose of an action (a post's text, an email's body), which differs from one request to the next. */
const PROSE = new Set(['text', 'body', 'html', 'message', 'content', 'instructions', 'description', 'notes'])

/**
 * Conditions that hold for requests like this one: the same requester, for the same person, with
 * the same short parameters (a recipient, a subject, a platform, an amount). Prose (a post's text,
 * an email's body), long values and nested objects are left out: they differ from one request to the next.
 */
export function similarQuery(request: { requester: Person; onBehalfOf?: Person | null; params: unknown }): RuleGroupType {
  const rules: RuleGroupType['rules'] = [{ field: 'requester.id', operator: '=', value: request.requester.id }]
  if (request.onBehalfOf) rules.push({ field: 'onBehalfOf.id', operator: '=', value: request.onBehalfOf.id })
  const params = request.params !== null && typeof request.params === 'object' && !Array.isArray(request.params) ? (request.params as Record<string, unknown>) : {}
  for (const [key, value] of Object.entries(params)) {
    if (PROSE.has(key)) continue
    const field = `params.${key}`
    if ((typeof value === 'string' && value.length > 0 && value.length <= MAX_SIMILAR_TEXT && !value.includes('\n')) || typeof value === 'number' || typeof value === 'boolean') {
      rules.push({ field, operator: '=', value })
    } else if (Array.isArray(value) && value.length > 0 && value.length <= 5 && value.every((v) => typeof v === 'string' && v.length <= MAX_SIMILAR_TEXT)) {
      // each of the list's items, wherever it stands in the list (JSONLogic's "in" over an array)
      for (const item of value) rules.push({ field, operator: 'contains', value: item })
    }
  }
  return { combinator: 'and', rules }
}
