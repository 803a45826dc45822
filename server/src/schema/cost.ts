// What an operation costs, computed from its shape before anything runs (Pothos's complexity
// plugin), so that one request cannot ask for hundreds of megabytes: lists multiply what they
// select by the number of items they may return, and JSON fields (an action's params and
// context, a record's data) weigh as much as the payloads they can carry (each up to 256 KiB).
import { getNamedType, getNullableType, GraphQLList, type GraphQLField } from 'graphql'

/** The most an operation may cost. `approvalInbox(first: 100)` with params alone fits; with params and context it does not. */
export const MAX_QUERY_COST = 12_000

/** The cost of one JSON field. */
const JSON_COST = 60
/** Items assumed in a list that has no page size: reviewers, events, roles. */
const LIST_ITEMS = 10

/** A field's own cost, and the factor by which what it selects is multiplied. */
// eslint-disable-next-line @typescript-eslint/no-explicit-any
export function fieldCost(args: Record<string, unknown>, _ctx: unknown, field: GraphQLField<unknown, any, any>) {
  if (getNamedType(field.type).name === 'JSON') return JSON_COST
  // a connection: its edges repeat `first` times (the page size, which maxSize bounds)
  if (field.args.some((a) => a.name === 'first') && getNamedType(field.type).name.endsWith('Connection')) {
    const first = typeof args.first === 'number' ? args.first : 20
    return { field: 1, multiplier: Math.max(1, first) }
  }
  if (field.name === 'edges' && getNullableType(field.type) instanceof GraphQLList) return { field: 1, multiplier: 1 }
  // one result per id given (decideRequests): each a decision of its own
  if (Array.isArray(args.ids) && getNullableType(field.type) instanceof GraphQLList) return { field: args.ids.length, multiplier: Math.max(1, args.ids.length) }
  if (getNullableType(field.type) instanceof GraphQLList) return { field: 1, multiplier: LIST_ITEMS }
  return 1
}
