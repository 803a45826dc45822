import { z } from 'zod'
import * as webhooks from '../outbox/webhooks.js'
import { MAX_URL_LENGTH } from '../outbox/network.js'
import { builder } from '../builder.js'
import type { Context } from '../context.js'
import { page } from './cost.js'
import { parseId } from './ids.js'

const MANAGE = { permission: 'approval:manage' } as const

export const WebhookEventType = builder.enumType('WebhookEventType', {
  values: {
    APPROVAL_REQUESTED: { description: 'approval.requested: a request was made (and a rule gated the action).' },
    APPROVAL_ESCALATED: { description: 'approval.escalated: a request went to its fallback (or the approval managers).' },
    APPROVAL_DECIDED: { description: 'approval.decided: a request reached APPROVED or REJECTED (its last stage; by a reviewer, automatically, or silence at the deadline).' },
    APPROVAL_EXPIRED: { description: 'approval.expired: nobody decided before the deadline.' },
    APPROVAL_CANCELLED: { description: 'approval.cancelled: the requester or an approval manager withdrew it.' },
    EXECUTION_FINISHED: { description: "execution.finished: the approved action ran (SUCCEEDED) or failed for good (FAILED); data.execution says which." },
    WEBHOOK_TEST: { description: 'webhook.test: sent on demand by sendTestWebhook; endpoints do not subscribe to it.' },
  } as const,
})

export const DeliveryStatus = builder.enumType('DeliveryStatus', {
  values: {
    PENDING: { description: 'Waiting for its next attempt (nextAttemptAt), or being sent.' },
    SUCCEEDED: { description: 'The endpoint answered 2xx.' },
    FAILED: { description: 'Every attempt failed; only redeliverWebhook sends it again.' },
  } as const,
})

builder.prismaObject('WebhookAttempt', {
  description: 'One attempt to send a delivery.',
  fields: (t) => ({
    attempt: t.exposeInt('attempt', { description: 'Its number among the attempts of the delivery, from 1.' }),
    at: t.expose('at', { type: 'DateTime' }),
    statusCode: t.exposeInt('statusCode', { nullable: true, description: 'The HTTP status of the answer; null when there was none.' }),
    error: t.exposeString('error', { nullable: true, description: 'What went wrong; null when it succeeded.' }),
    durationMs: t.exposeInt('durationMs'),
  }),
})

export const WebhookDelivery = builder.prismaNode('WebhookDelivery', {
  id: { field: 'id' },
  nullable: true,
  authScopes: MANAGE,
  // node(id:) shows deliveries to approval managers only
  findUnique: (id, ctx) => (ctx.viewer?.permissions.has('approval:manage') ? { id } : { id, AND: [{ id: { in: [] } }] }),
  description: 'One event sent to one endpoint: its payload, and how sending it goes.',
  fields: (t) => ({
    eventType: t.expose('eventType', { type: WebhookEventType }),
    status: t.expose('status', { type: DeliveryStatus }),
    attempts: t.exposeInt('attempts', { description: 'Attempts made so far (the one under way included), redeliveries too.' }),
    lastStatusCode: t.exposeInt('lastStatusCode', { nullable: true }),
    lastError: t.exposeString('lastError', { nullable: true }),
    lastAttemptAt: t.expose('lastAttemptAt', { type: 'DateTime', nullable: true }),
    nextAttemptAt: t.expose('nextAttemptAt', { type: 'DateTime', nullable: true, description: 'When it is tried next while PENDING; null once SUCCEEDED or FAILED.' }),
    createdAt: t.expose('createdAt', { type: 'DateTime' }),
    payload: t.expose('payload', { type: 'JSON', description: 'The body sent: { type, timestamp, data }.' }),
    endpoint: t.relation('endpoint'),
    attemptLog: t.relation('attemptLog', {
      description: 'Its latest attempts (up to 20), newest first.',
      query: { orderBy: { id: 'desc' }, take: 20 },
    }),
  }),
})

const WebhookDeliveryConnection = builder.connectionObject({ type: WebhookDelivery, name: 'WebhookDeliveryConnection' }, { name: 'WebhookDeliveryEdge' })

export const WebhookEndpoint = builder.prismaNode('WebhookEndpoint', {
  id: { field: 'id' },
  nullable: true,
  authScopes: MANAGE,
  findUnique: (id, ctx) => (ctx.viewer?.permissions.has('approval:manage') ? { id } : { id, AND: [{ id: { in: [] } }] }),
  description: 'Where webhooks go, and which events it wants. Its signing secret is shown once, when it is created.',
  fields: (t) => ({
    url: t.exposeString('url'),
    description: t.exposeString('description', { nullable: true }),
    events: t.expose('events', { type: [WebhookEventType] }),
    enabled: t.exposeBoolean('enabled', { description: 'A disabled endpoint gets no new deliveries, and its pending ones wait until it is enabled again.' }),
    createdAt: t.expose('createdAt', { type: 'DateTime' }),
    updatedAt: t.expose('updatedAt', { type: 'DateTime' }),
    deliveries: t.relatedConnection(
      'deliveries',
      { cursor: 'id', description: 'Its deliveries, newest first.', ...page({ defaultSize: 20, maxSize: 100 }), query: { orderBy: [{ createdAt: 'desc' }, { id: 'desc' }] } },
      WebhookDeliveryConnection,
    ),
  }),
})

const CreatedWebhookEndpoint = builder.objectRef<{ endpoint: { id: string }; secret: string }>('CreatedWebhookEndpoint').implement({
  fields: (t) => ({
    endpoint: t.prismaField({ type: 'WebhookEndpoint', resolve: (query, parent, _args, ctx) => ctx.prisma.webhookEndpoint.findUniqueOrThrow({ ...query, where: { id: parent.endpoint.id } }) }),
    secret: t.exposeString('secret', { description: 'The signing secret (whsec_...), shown once.' }),
  }),
})

const WebhookEndpointInput = builder.inputType('WebhookEndpointInput', {
  fields: (t) => ({
    url: t.string({
      required: true,
      description: 'https://, or http:// to a loopback or private address when the server allows private networks.',
      validate: z.string().trim().min(1, 'must not be empty').max(MAX_URL_LENGTH),
    }),
    description: t.string({ validate: z.string().max(webhooks.MAX_DESCRIPTION_LENGTH).nullish() }),
    events: t.field({ type: [WebhookEventType], required: true, validate: z.array(z.string()).min(1, 'choose at least one event type').max(10) }),
    enabled: t.boolean({ defaultValue: true }),
  }),
})

const settings = (ctx: Context) => ctx.webhooks.settings

/** The dispatcher learns of a new or re-enabled endpoint at once (it skips its wakes while it knows of none). */
function changed<T>(ctx: Context, result: T): T {
  ctx.webhooks.dispatcher.endpointsChanged()
  return result
}

// ---- queries

builder.queryFields((t) => ({
  webhookEndpoints: t.prismaField({
    type: ['WebhookEndpoint'],
    description: 'Every webhook endpoint, oldest first.',
    authScopes: MANAGE,
    resolve: (query, _root, _args, ctx) => ctx.prisma.webhookEndpoint.findMany({ ...query, orderBy: [{ createdAt: 'asc' }, { id: 'asc' }] }),
  }),
  webhookEndpoint: t.prismaField({
    type: 'WebhookEndpoint',
    nullable: true,
    description: 'One webhook endpoint, with its deliveries.',
    authScopes: MANAGE,
    args: { id: t.arg.id({ required: true }) },
    resolve: (query, _root, { id }, ctx) => ctx.prisma.webhookEndpoint.findUnique({ ...query, where: { id: parseId(id, ['WebhookEndpoint'], 'id').id } }),
  }),
}))

// ---- mutations

builder.mutationFields((t) => ({
  createWebhookEndpoint: t.field({
    type: CreatedWebhookEndpoint,
    description: 'Adds an endpoint; the answer holds its signing secret, shown this once.',
    authScopes: MANAGE,
    args: { input: t.arg({ type: WebhookEndpointInput, required: true }) },
    resolve: async (_root, { input }, ctx) => changed(ctx, await webhooks.createEndpoint(ctx.prisma, ctx.viewer!.id, input, settings(ctx))),
  }),
  updateWebhookEndpoint: t.prismaField({
    type: 'WebhookEndpoint',
    description: "Replaces an endpoint's URL, description, events and switch; its secret stays.",
    authScopes: MANAGE,
    args: { id: t.arg.id({ required: true }), input: t.arg({ type: WebhookEndpointInput, required: true }) },
    resolve: async (query, _root, { id, input }, ctx) => {
      const updated = await webhooks.updateEndpoint(ctx.prisma, parseId(id, ['WebhookEndpoint'], 'id').id, input, settings(ctx))
      return changed(ctx, await ctx.prisma.webhookEndpoint.findUniqueOrThrow({ ...query, where: { id: updated.id } }))
    },
  }),
  deleteWebhookEndpoint: t.boolean({
    description: 'Deletes an endpoint and its deliveries.',
    authScopes: MANAGE,
    args: { id: t.arg.id({ required: true }) },
    resolve: (_root, { id }, ctx) => webhooks.deleteEndpoint(ctx.prisma, parseId(id, ['WebhookEndpoint'], 'id').id),
  }),
  redeliverWebhook: t.prismaField({
    type: 'WebhookDelivery',
    description: "Sends the delivery's payload again, as a new attempt.",
    authScopes: MANAGE,
    args: { deliveryId: t.arg.id({ required: true }) },
    resolve: async (query, _root, { deliveryId }, ctx) => {
      const delivery = await webhooks.redeliver(ctx.prisma, parseId(deliveryId, ['WebhookDelivery'], 'deliveryId').id, ctx.clock.now())
      return ctx.prisma.webhookDelivery.findUniqueOrThrow({ ...query, where: { id: delivery.id } })
    },
  }),
  sendTestWebhook: t.prismaField({
    type: 'WebhookDelivery',
    description: 'Sends a test event (type webhook.test) to the endpoint now, signed like any other; the delivery shows how it went.',
    authScopes: MANAGE,
    args: { id: t.arg.id({ required: true }) },
    resolve: async (query, _root, { id }, ctx) => {
      const delivery = await webhooks.sendTestEvent(ctx.prisma, parseId(id, ['WebhookEndpoint'], 'id').id, ctx.clock.now())
      return ctx.prisma.webhookDelivery.findUniqueOrThrow({ ...query, where: { id: delivery.id } })
    },
  }),
}))
