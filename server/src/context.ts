import type { Viewer } from './auth/viewer.js'
import type { AuditSequencer } from './approvals/audit-log.js'
import type { ActionTypeRegistry } from './approvals/catalogue.js'
import type { ExecutionSettings } from './approvals/executions.js'
import type { InboxHub } from './approvals/inbox-hub.js'
import type { Notifier } from './approvals/notify.js'
import type { RequestSettings } from './approvals/requests.js'
import type { Clock } from './clock.js'
import type { PrismaClient } from './db.js'
import type { Logger } from './logger.js'
import type { WebhookDispatcher } from './outbox/webhook-dispatcher.js'
import type { WebhookSettings } from './outbox/webhooks.js'
import type { PubSub } from './pubsub.js'

/**
 * What a resolver knows about the request it serves: who is calling, a request id and a logger
 * bound to it, and the app's services.
 *
 * The services sit here rather than being imported (as STYLE.md prefers) because buildApp takes
 * them as arguments: tests run several apps over different databases and clocks in one process,
 * and Pothos's Prisma plugin reads the client from the context for exactly that case.
 */
export interface Context {
  viewer: Viewer | null
  requestId: string
  log: Logger
  prisma: PrismaClient
  clock: Clock
  pubsub: PubSub
  notify: Notifier
  /** The instance's inbox fan-out: one load per request change for all its inbox subscribers. */
  inbox: InboxHub
  /** The action types: the built-ins, and the custom ones kept in memory. */
  actionTypes: ActionTypeRegistry
  /**
   * Where the operation comes from, for the audit trail of a person's decisions: 'inbox' when the
   * inbox says so (the X-Approvals-Client header, or `client` in a WebSocket's connection params),
   * else 'api'.
   */
  client: 'inbox' | 'api'
  /** Numbers committed events for the audit feed. */
  audit: AuditSequencer
  /** How often a waiting subscription re-reads the state, in case an event was lost (Redis down). */
  catchUpIntervalMs: number
  /** How approved actions are run (attempts); the defaults when not given. */
  executions?: ExecutionSettings
  /** Size limits of requests' params and context, and the caches requests read (the defaults when not given). */
  limits?: RequestSettings
  /** Told when a subscription listens for its events (tests wait on it instead of sleeping). */
  onSubscribed?: (field: 'approvalDecision' | 'approvalInbox' | 'approvedActions') => void
  /** Where webhooks may go, and the instance's webhook dispatcher. */
  webhooks: { settings: WebhookSettings; dispatcher: WebhookDispatcher }
}
