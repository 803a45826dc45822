import type { Context } from '../context.js'
import type { Prisma } from '../db.js'

/** A null result needs no query; reading it tells Pothos's unused-query check so. */
export const nothing = (query: object) => (void { ...query }, null)

/**
 * Reads a request that a mutation just wrote, selecting what the operation asks for (the domain
 * functions return bare rows; this keeps the GraphQL selection in one query).
 */
export function reloadRequest(ctx: Context, query: { include?: Prisma.ApprovalRequestInclude; select?: Prisma.ApprovalRequestSelect }, id: string) {
  return ctx.prisma.approvalRequest.findUniqueOrThrow({ ...query, where: { id } })
}
