import { decisionStream, inboxStream } from '../approvals/streams.js'
import { builder } from '../builder.js'
import { parseId } from './ids.js'

const InboxEventType = builder.enumType('InboxEventType', { values: ['ADDED', 'UPDATED', 'REMOVED'] as const })

const ApprovalInboxEvent = builder.objectRef<{ requestId: string; type: 'ADDED' | 'UPDATED' | 'REMOVED' }>('ApprovalInboxEvent').implement({
  fields: (t) => ({
    type: t.field({ type: InboxEventType, resolve: (e) => e.type }),
    request: t.prismaField({
      type: 'ApprovalRequest',
      resolve: (query, e, _args, ctx) => ctx.prisma.approvalRequest.findUniqueOrThrow({ ...query, where: { id: e.requestId } }),
    }),
  }),
})

builder.subscriptionType({})

builder.subscriptionFields((t) => ({
  approvalInbox: t.field({
    type: ApprovalInboxEvent,
    description:
      "The viewer's inbox as it changes: a request became decidable by the viewer (ADDED), changed (UPDATED), or left it (REMOVED).",
    authScopes: { permission: 'approval:resolve' },
    subscribe: (_root, _args, ctx) => inboxStream(ctx),
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
