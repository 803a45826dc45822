// Webhook endpoints and their deliveries, as approval managers keep them. The deliveries of
// approval events are written by a trigger in the transaction of the event (see the webhooks
// migration); here are the ones written on demand (a test event, a redelivery), and the rules an
// endpoint must follow.
import { randomBytes } from 'node:crypto'
import { encodeGlobalID } from '@pothos/plugin-relay'
import type { PrismaClient } from '../db.js'
import { badInput, conflict, notFound } from '../errors.js'
import type { WebhookDelivery, WebhookEndpoint, WebhookEventType } from '../generated/prisma/client.js'
import { refusedEndpointUrl } from './network.js'

/** The event types an endpoint may subscribe to (WEBHOOK_TEST is sent on demand only). */
export const SUBSCRIBABLE_EVENT_TYPES = [
  'APPROVAL_REQUESTED',
  'APPROVAL_ESCALATED',
  'APPROVAL_DECIDED',
  'APPROVAL_EXPIRED',
  'APPROVAL_CANCELLED',
  'EXECUTION_FINISHED',
] as const satisfies readonly WebhookEventType[]

/** The most endpoints: every event is written once per endpoint that wants it. */
export const MAX_WEBHOOK_ENDPOINTS = 50
export const MAX_DESCRIPTION_LENGTH = 500

/** The payload's `type` for an event type: APPROVAL_REQUESTED is "approval.requested", WEBHOOK_TEST "webhook.test". */
export const payloadType = (type: WebhookEventType) => type.toLowerCase().replace('_', '.')

/** A new signing secret: whsec_ and the base64 of 32 random bytes (the Standard Webhooks form). */
export const newWebhookSecret = () => `whsec_${randomBytes(32).toString('base64')}`

export interface WebhookSettings {
  /** APPROVALS_WEBHOOK_ALLOW_PRIVATE_NETWORKS: loopback and private networks (and plain http to them) allowed. */
  allowPrivateNetworks: boolean
}

export interface EndpointInput {
  url: string
  description?: string | null
  events: WebhookEventType[]
  enabled?: boolean | null
}

/** The endpoint's columns from its input, checked: BAD_USER_INPUT naming the field otherwise. */
function checkedEndpoint(input: EndpointInput, settings: WebhookSettings) {
  const url = input.url.trim()
  const refused = refusedEndpointUrl(url, settings.allowPrivateNetworks)
  if (refused) throw badInput(refused, 'input.url')
  const description = input.description?.trim() || null
  if (description && description.length > MAX_DESCRIPTION_LENGTH) throw badInput(`The description must be at most ${MAX_DESCRIPTION_LENGTH} characters.`, 'input.description')
  const events = [...new Set(input.events)]
  if (events.length === 0) throw badInput('Choose at least one event type.', 'input.events')
  if (events.some((e) => !(SUBSCRIBABLE_EVENT_TYPES as readonly string[]).includes(e))) {
    throw badInput('WEBHOOK_TEST is sent on demand (sendTestWebhook); endpoints do not subscribe to it.', 'input.events')
  }
  // stored in the API's order, whatever order they were given in
  const ordered = SUBSCRIBABLE_EVENT_TYPES.filter((e) => events.includes(e))
  return { url, description, events: ordered, enabled: input.enabled ?? true }
}

/** Adds an endpoint; its secret is returned here and never again. */
export async function createEndpoint(
  prisma: PrismaClient,
  createdById: string,
  input: EndpointInput,
  settings: WebhookSettings,
): Promise<{ endpoint: WebhookEndpoint; secret: string }> {
  const data = checkedEndpoint(input, settings)
  if ((await prisma.webhookEndpoint.count()) >= MAX_WEBHOOK_ENDPOINTS) {
    throw badInput(`There are ${MAX_WEBHOOK_ENDPOINTS} webhook endpoints already, the most there may be: delete one first.`)
  }
  const secret = newWebhookSecret()
  const endpoint = await prisma.webhookEndpoint.create({ data: { ...data, secret, createdById } })
  return { endpoint, secret }
}

/** Replaces an endpoint's URL, description, events and switch; the secret stays. */
export async function updateEndpoint(prisma: PrismaClient, id: string, input: EndpointInput, settings: WebhookSettings): Promise<WebhookEndpoint> {
  const data = checkedEndpoint(input, settings)
  const { count } = await prisma.webhookEndpoint.updateMany({ where: { id }, data })
  if (count === 0) throw notFound('Webhook endpoint')
  return prisma.webhookEndpoint.findUniqueOrThrow({ where: { id } })
}

/** Deletes an endpoint with its deliveries; one being sent now is not recorded. */
export async function deleteEndpoint(prisma: PrismaClient, id: string): Promise<boolean> {
  const { count } = await prisma.webhookEndpoint.deleteMany({ where: { id } })
  if (count === 0) throw notFound('Webhook endpoint')
  return true
}

async function enabledEndpoint(prisma: PrismaClient, id: string) {
  const endpoint = await prisma.webhookEndpoint.findUnique({ where: { id }, select: { id: true, url: true, enabled: true } })
  if (!endpoint) throw notFound('Webhook endpoint')
  if (!endpoint.enabled) throw conflict('This endpoint is disabled: enable it first, then send.')
  return endpoint
}

/**
 * Queues a test event (webhook.test) for one endpoint, due at once: the admin screen's "send a
 * test event". It is a delivery like any other: signed, retried, logged.
 */
export async function sendTestEvent(prisma: PrismaClient, endpointId: string, now: Date): Promise<WebhookDelivery> {
  const endpoint = await enabledEndpoint(prisma, endpointId)
  const payload = {
    type: payloadType('WEBHOOK_TEST'),
    timestamp: now.toISOString(),
    data: {
      endpoint: { id: encodeGlobalID('WebhookEndpoint', endpoint.id), url: endpoint.url },
      message: 'A test event, sent from the Approvals admin screen.',
    },
  }
  return prisma.webhookDelivery.create({
    data: { endpointId, eventType: 'WEBHOOK_TEST', payload, status: 'PENDING', nextAttemptAt: now, createdAt: now },
  })
}

/**
 * Sends a delivery's payload again, at once, as one more attempt (with the same webhook-id, so a
 * receiver that saw it can tell). If it fails it is retried while the delivery has attempts
 * left, else it is FAILED again. CONFLICT while an attempt is under way.
 */
export async function redeliver(prisma: PrismaClient, deliveryId: string, now: Date): Promise<WebhookDelivery> {
  const delivery = await prisma.webhookDelivery.findUnique({ where: { id: deliveryId }, select: { endpointId: true } })
  if (!delivery) throw notFound('Webhook delivery')
  await enabledEndpoint(prisma, delivery.endpointId)
  const { count } = await prisma.webhookDelivery.updateMany({
    where: { id: deliveryId, OR: [{ leaseExpiresAt: null }, { leaseExpiresAt: { lte: now } }] },
    data: { status: 'PENDING', nextAttemptAt: now, leaseExpiresAt: null },
  })
  if (count === 0) throw conflict('This delivery is being sent right now; try again once the attempt is over.')
  return prisma.webhookDelivery.findUniqueOrThrow({ where: { id: deliveryId } })
}
