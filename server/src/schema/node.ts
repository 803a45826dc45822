// node(id:) answers null for an id that is malformed, names no object, or names one the viewer
// may not see: the three cannot be told apart. Each type's node loader applies its own
// visibility (loadOne / findUnique filters), as its fields and queries do.
import { decodeGlobalID, resolveNodes } from '@pothos/plugin-relay'
import type { Viewer } from '../auth/viewer.js'
import { builder } from '../builder.js'
import type { Context } from '../context.js'
import { agentsVisibleTo, usersVisibleTo } from '../directory/visibility.js'
import { recordsReadableBy } from './records.js'

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i
const NODE_TYPES = new Set(['User', 'Agent', 'Role', 'ApiToken', 'Record', 'ApprovalRule', 'ApprovalRequest', 'WebhookEndpoint', 'WebhookDelivery'])

/** Whether the viewer may see the user, agent or record with this database id (other types filter in their loaders). */
const visible: Record<string, (ctx: Context, viewer: Viewer, id: string) => Promise<boolean>> = {
  User: async (ctx, viewer, id) => (await ctx.prisma.user.count({ where: { AND: [{ id }, usersVisibleTo(viewer)] } })) > 0,
  Agent: async (ctx, viewer, id) => (await ctx.prisma.agent.count({ where: { AND: [{ id }, agentsVisibleTo(viewer)] } })) > 0,
  Record: async (ctx, _viewer, id) => (await ctx.prisma.record.count({ where: { AND: [{ id }, await recordsReadableBy(ctx)] } })) > 0,
}

function decode(id: string): { typename: string; id: string } | null {
  try {
    const decoded = decodeGlobalID(id)
    return NODE_TYPES.has(decoded.typename) && UUID.test(decoded.id) ? decoded : null
  } catch {
    return null
  }
}

builder.queryField('node', (t) =>
  t.field({
    type: builder.nodeInterfaceRef(),
    nullable: true,
    description: 'The object with this global ID, or null when there is none the viewer may see.',
    authScopes: { authenticated: true },
    args: { id: t.arg.id({ required: true }) },
    resolve: async (_root, { id }, ctx, info) => {
      const ref = decode(id)
      if (!ref) return null
      if (visible[ref.typename] && !(await visible[ref.typename]!(ctx, ctx.viewer!, ref.id))) return null
      const [node] = await resolveNodes(builder, ctx, info, [ref])
      return (node ?? null) as never
    },
  }),
)
