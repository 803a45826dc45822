import { queryFromInfo } from '@pothos/plugin-prisma'
import type { GraphQLResolveInfo } from 'graphql'
import type { InboxEvent, RequestQuery } from '../approvals/inbox-hub.js'
import { decisionStream, inboxStream } from '../approvals/streams.js'
import { builder } from '../builder.js'
import type { Context } from '../context.js'
import { parseId } from './ids.js'

const InboxEventType = builder.enumType('InboxEventType', { values: ['ADDED', 'UPDATED', 'REMOVED'] as const })

const ApprovalInboxEvent = builder.objectRef<InboxEvent>('ApprovalInboxEvent').implement({
  fields: (t) => ({
    type: t.field({ type: InboxEventType, resolve: (e) => e.type }),
    request: t.prismaField({
      type: 'ApprovalRequest',
      // every subscriber told of a change shares its loads: one per distinct selection, not one
      // per subscriber (the hub already loaded the most common one with the facts it decided on)
      resolve: (query, e, _args, ctx) =>
        e.load ? e.load(query) : ctx.prisma.approvalRequest.findUniqueOrThrow({ ...query, where: { id: e.requestId } }),
    }),
  }),
})

/**
 * What an inbox subscription selects of the request, as the query Pothos will plan for its
 * `request` field; null when it cannot be planned here (the hub then loads the facts alone).
 */
function requestSelection(ctx: Context, info: GraphQLResolveInfo): RequestQuery | null {
  try {
    return queryFromInfo({ context: ctx, info, typeName: 'ApprovalRequest', path: ['request'] }) as RequestQuery
  } catch {
    return null
  }
}

builder.subscriptionType({})

builder.subscriptionFields((t) => ({
  approvalInbox: t.field({
    type: ApprovalInboxEvent,
    description:
      "The viewer's inbox as it changes: a request became decidable by the viewer (ADDED), changed (UPDATED), or left it (REMOVED).",
    authScopes: { permission: 'approval:resolve' },
    subscribe: (_root, _args, ctx, info) => inboxStream(ctx, requestSelection(ctx, info)),
    resolve: (event) => event,
  }),
  approvalDecision: t.prismaField({
    type: 'ApprovalRequest',
    description: 'The request once it reaches a final status; at once if it already has. Completes after that one event.',
    authScopes: { authenticated: true },
    args: { requestId: t.arg.id({ required: true }) },
    subscribe: (_root, { requestId }, ctx) => decisionStream(ctx, parseId(requestId, ['ApprovalRequest'], 'requestId').id),
    resolve: (query, event, _args, ctx) => ctx.prisma.approvalRequest.findUniqueOrThrow({ ...query, where: { id: (event as unknown as { requestId: string }).requestId } }),
  }),
}))
