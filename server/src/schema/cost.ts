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
/** The page a connection returns at most when it does not say (Pothos's own bound). */
const DEFAULT_MAX_PAGE = 100

/** A connection's page sizes: what it returns when asked for no size, and the most it returns whatever is asked. */
export interface PageSizes {
  defaultSize: number
  maxSize: number
}

interface PageArgs {
  first?: number | null
  last?: number | null
}

/**
 * How many edges a connection may return for these arguments, as its cost counts them: the
 * larger of `first` and `last` (a page counted by `first` alone let `last: 1000` through), or
 * the page it returns when neither is given, never more than its largest page. As Pothos serves
 * it (getConnectionPageSize), but for the larger of the two where Pothos takes `first`.
 */
export function pageCost(args: PageArgs, sizes: PageSizes): number {
  const asked = [args.first, args.last].filter((n): n is number => typeof n === 'number')
  return Math.max(1, Math.min(asked.length > 0 ? Math.max(...asked) : sizes.defaultSize, sizes.maxSize))
}

/**
 * The page options of a connection (spread into `t.prismaConnection` or `t.relatedConnection`)
 * with the cost they imply, from one declaration, so that the cost cannot drift from the page.
 */
export function page(sizes: PageSizes) {
  return { ...sizes, complexity: (args: PageArgs) => ({ field: 1, multiplier: pageCost(args, sizes) }) }
}

/** Whether a field is a connection (a page of edges): what `page()` must declare. */
// eslint-disable-next-line @typescript-eslint/no-explicit-any
export const isConnection = (field: GraphQLField<unknown, any, any>) =>
  getNamedType(field.type).name.endsWith('Connection') && field.args.some((a) => a.name === 'first' || a.name === 'last')

/** A field's own cost, and the factor by which what it selects is multiplied. */
// eslint-disable-next-line @typescript-eslint/no-explicit-any
export function fieldCost(args: Record<string, unknown>, _ctx: unknown, field: GraphQLField<unknown, any, any>) {
  if (getNamedType(field.type).name === 'JSON') return JSON_COST
  // a connection that did not declare its page (page()): what is asked, uncapped, or else Pothos's own largest page
  if (isConnection(field)) {
    const bound = Math.max(DEFAULT_MAX_PAGE, ...[args.first, args.last].filter((n) => typeof n === 'number'))
    return { field: 1, multiplier: pageCost(args as PageArgs, { defaultSize: DEFAULT_MAX_PAGE, maxSize: bound }) }
  }
  if (field.name === 'edges' && getNullableType(field.type) instanceof GraphQLList) return { field: 1, multiplier: 1 }
  // one result per id given (decideRequests): each a decision of its own
  if (Array.isArray(args.ids) && getNullableType(field.type) instanceof GraphQLList) return { field: args.ids.length, multiplier: Math.max(1, args.ids.length) }
  if (getNullableType(field.type) instanceof GraphQLList) return { field: 1, multiplier: LIST_ITEMS }
  return 1
}
