import type { Context } from '../context.js'
import { Prisma } from '../db.js'
import type { ApprovalRequest } from '../generated/prisma/client.js'

/** A null result needs no query; reading it tells Pothos's unused-query check so. */
export const nothing = (query: object) => (void { ...query }, null)

/**
 * Reads a request that a mutation just wrote, selecting what the operation asks for (the domain
 * functions return bare rows; this keeps the GraphQL selection in one query).
 */
export function reloadRequest(ctx: Context, query: { include?: Prisma.ApprovalRequestInclude; select?: Prisma.ApprovalRequestSelect }, id: string) {
  return ctx.prisma.approvalRequest.findUniqueOrThrow({ ...query, where: { id } })
}

type RequestQuery = { include?: Prisma.ApprovalRequestInclude; select?: Prisma.ApprovalRequestSelect }

const REQUEST_COLUMNS = new Set<string>(Object.values(Prisma.ApprovalRequestScalarFieldEnum))

/**
 * Answers with a request a mutation just wrote: the row itself when the operation asks for its
 * columns only (no query), else read with what it asks for (one query).
 */
export async function answerRequest(ctx: Context, query: RequestQuery, request: ApprovalRequest) {
  const include = Object.entries(query.include ?? {}).filter(([, wanted]) => wanted)
  const select = Object.entries(query.select ?? {}).filter(([key, wanted]) => wanted && !REQUEST_COLUMNS.has(key))
  if (include.length === 0 && select.length === 0) return nothing(query) ?? request
  return reloadRequest(ctx, query, request.id)
}
