import { randomUUID } from 'node:crypto'
import { existsSync } from 'node:fs'
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http'
import type { AddressInfo } from 'node:net'
import { dirname, join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { EnvelopArmorPlugin } from '@escape.tech/graphql-armor'
import { useCSRFPrevention } from '@graphql-yoga/plugin-csrf-prevention'
import { useDisableIntrospection } from '@graphql-yoga/plugin-disable-introspection'
import { getOperationAST, GraphQLError, NoSchemaIntrospectionCustomRule } from 'graphql'
import { createYoga, useReadinessCheck, type Plugin } from 'graphql-yoga'
import { CloseCode } from 'graphql-ws'
import { useServer } from 'graphql-ws/use/ws'
import type { Redis } from 'ioredis'
import { WebSocketServer } from 'ws'
import { parseBearer } from './auth/tokens.js'
import type { Viewer } from './auth/viewer.js'
import { createViewerCache, type ViewerCache } from './auth/viewer-cache.js'
import { createActionTypeRegistry } from './approvals/catalogue.js'
import { createModuleVisibilityCache } from './approvals/record-visibility.js'
import { createRuleCache } from './approvals/rule-cache.js'
import { systemClock, type Clock } from './clock.js'
import type { Context } from './context.js'
import type { Database } from './db.js'
import { badInput, unauthenticated } from './errors.js'
import { readBodyWithin } from './http/body-limit.js'
import { isOriginAllowed, originSet } from './http/origin.js'
import { requestIdFor } from './http/request-id.js'
import { isGraphiQLRequest, setSecurityHeaders } from './http/security-headers.js'
import { createInboxHandler } from './http/static-files.js'
import { ConnectionRegistry } from './limits/connections.js'
import { useMutationRateLimit, type RateLimitOptions } from './limits/rate-limit.js'
import { watchAccess } from './limits/revocation.js'
import { stoppable } from './limits/stoppable.js'
import { yogaLogger, type Logger } from './logger.js'
import { createInboxHub } from './approvals/inbox-hub.js'
import { createNotifier } from './approvals/notify.js'
import { DEFAULT_MAX_EXECUTION_ATTEMPTS } from './approvals/executions.js'
import { DEFAULT_MAX_JSON_BYTES } from './approvals/requests.js'
import { useInputTextChecks } from './limits/input-text.js'
import { startScheduler, type DeadlineChanges, type Scheduler } from './approvals/scheduler.js'
import { startAuditSequencer, type AuditSequencer } from './approvals/audit-log.js'
import { createMetricsHandler, bearerMatches } from './http/metrics.js'
import { createMetrics, type Metrics } from './metrics.js'
import { usePrometheus } from '@graphql-yoga/plugin-prometheus'
import { useOpenTelemetry } from '@envelop/opentelemetry'
import { SpanKind, type TracerProvider } from '@opentelemetry/api'
import { useRequestIdOnSpans } from './tracing.js'
import { startWebhookDispatcher, type RecordedAttempt, type WebhookDispatcher } from './outbox/webhook-dispatcher.js'
import { createAppPubSub, type PubSub } from './pubsub.js'
import { createDecidePage } from './http/decide-page.js'
import { useJsonPostsOnly } from './http/json-bodies.js'
import { createSlackInteractivity } from './http/slack-interactivity.js'
import { createMailer } from './outbox/email.js'
import { startNotifications, wakingNotifier, type NotificationDispatcher, type NotificationSettings } from './outbox/notifications.js'
import { createSlack } from './outbox/slack.js'
import { schema } from './schema/index.js'

export interface AppOptions {
  db: Database
  logger: Logger
  clock?: Clock
  /** Checked by /readyz when given. */
  redis?: Redis
  production?: boolean
  /** How long stop() lets open requests finish before cutting them. */
  shutdownTimeoutMs?: number
  /** How often the deadline scheduler runs; 0 runs it only through `scheduler.runOnce()` (tests). */
  schedulerIntervalMs?: number
  /** Told of each scheduler pass that moved something, after the app's own handling and before the pass ends (tests wait on it, or hold a pass open with it). */
  onDeadlinesPassed?: (changes: DeadlineChanges) => Promise<void> | void
  /** How often the audit sequencer numbers new events for the feed and writes a checkpoint (default 1 s); 0: only when the feed or a verification asks. */
  auditIntervalMs?: number
  /** APPROVALS_METRICS_TOKEN: /metrics on the main port answers requests bearing it; without it, /metrics there is 404 (see `listenMetrics`). */
  metricsToken?: string
  /** Traces of GraphQL operations go to this provider's exporters (main.ts builds one when OTEL_EXPORTER_OTLP_ENDPOINT is set). */
  tracerProvider?: TracerProvider
  /** In-process when not given. */
  pubsub?: PubSub
  /** How often waiting subscriptions re-read the state and re-check the viewer's token (default 2 s). */
  catchUpIntervalMs?: number
  /** Operations one WebSocket connection may run at once (default 100). */
  maxSubscriptionsPerConnection?: number
  /** Attempts before an approved action that keeps failing is FAILED (default 5). */
  maxExecutionAttempts?: number
  /** The largest params and context of a request, each, as JSON bytes (default 256 KiB). */
  maxJsonBytes?: number
  /** Told when a subscription listens for its events (tests wait on it instead of sleeping). */
  onSubscribed?: (field: 'approvalDecision' | 'approvalInbox' | 'approvedActions') => void
  /** The built inbox, served at /; found as client/dist above this module when not given. */
  clientDir?: string | null
  /**
   * Whether the schema answers introspection queries (over HTTP and WebSocket). Default: on
   * outside production, off in production (APPROVALS_INTROSPECTION overrides it).
   */
  introspection?: boolean
  /**
   * Browser origins, besides the server's own, whose pages may open a WebSocket
   * (APPROVALS_ALLOWED_ORIGINS), like `https://inbox.example.com`. Upgrades from any other
   * origin are refused with 403; clients that send no Origin (agents) are not affected.
   */
  allowedOrigins?: string[]
  /** Open WebSocket connections one token may hold; the next is closed with 4429 (default 20). */
  maxConnectionsPerToken?: number
  /**
   * Operations one principal may run at once over all its WebSocket connections on this instance;
   * the next is refused with RATE_LIMITED (default 200).
   */
  maxSubscriptionsPerPrincipal?: number
  /**
   * Calls per principal per minute to the mutations that create or decide requests (see
   * limits/rate-limit.ts), counted in `redis` when given so that the limit holds across
   * instances. Default: 600 a minute, in memory; `perMinute: 0` turns it off.
   */
  rateLimit?: RateLimitOptions
  /** Largest HTTP request body (413 past it) and WebSocket message (default 2 MiB). */
  maxBodyBytes?: number
  /**
   * How often open WebSockets are checked against the database for revoked tokens and disabled
   * agents, in case an `accessRevoked` event was lost (default 5 s; 0: never).
   */
  accessSweepIntervalMs?: number
  /**
   * How long a token's principal is served from memory while the pub/sub announces directory
   * changes (default 5 minutes; 0: read it on every request). See auth/viewer-cache.ts.
   */
  authCacheTtlMs?: number
  /**
   * How long the enabled rules, the custom action types and the PRIVATE modules are served from
   * memory while their changes are announced (default 5 minutes; 0: read each time).
   */
  ruleCacheTtlMs?: number
  /**
   * Email and Slack notifications, the decision page's and Slack's links (see outbox/notifications.ts).
   * Not given: both channels off, links to http://localhost.
   */
  notifications?: NotificationSettings
  /** Webhooks: where they may go, and how the instance's dispatcher runs (see outbox/webhook-dispatcher.ts). */
  webhooks?: {
    /** APPROVALS_WEBHOOK_ALLOW_PRIVATE_NETWORKS: loopback and private networks allowed (default false). */
    allowPrivateNetworks?: boolean
    /** How often the dispatcher looks for due deliveries (default 1 s); 0: only through `webhooks.runOnce()`, never woken (tests). */
    intervalMs?: number
    /** The time limit of one attempt (default 10 s). */
    timeoutMs?: number
    /** The retry schedule's jitter, 0 ≤ x < 1 (tests pin it). */
    random?: () => number
    /** Told after each attempt is recorded (tests wait on it). */
    onAttempt?: (attempt: RecordedAttempt) => void
  }
}

export interface App {
  server: Server
  scheduler: Scheduler
  /** Numbers committed events for the feed and anchors their chains in checkpoints. */
  audit: AuditSequencer
  /** The Prometheus metrics of this app (its own registry). */
  metrics: Metrics
  /** Serves /metrics, without a token, on `port` of 127.0.0.1 only (METRICS_PORT); resolves with the bound port. Closed by stop(). */
  listenMetrics(port: number): Promise<number>
  /** Sends the notification outbox (email, Slack); tests call its runOnce(). */
  notifications: NotificationDispatcher
  /** Sends the webhook outbox. */
  webhooks: WebhookDispatcher
  /** The app's pubsub (the one given, or its in-process one): publish `accessRevoked` here. */
  pubsub: PubSub
  /** The open WebSocket connections and their operations, by token and principal. */
  connections: ConnectionRegistry
  /** Who each token stands for, cached (invalidated through the pubsub). */
  viewers: ViewerCache
  /** Listens; resolves with the bound port (useful with port 0). */
  listen(port: number, host?: string): Promise<number>
  /** Stops accepting, closes sockets and the database. */
  stop(): Promise<void>
}

/** client/dist, looked for above this module (from source or from dist/), if the inbox was built. */
function findClientDist(): string | null {
  let dir = dirname(fileURLToPath(import.meta.url))
  for (let i = 0; i < 5; i++) {
    const candidate = join(dir, 'client', 'dist')
    if (existsSync(join(candidate, 'index.html'))) return candidate
    dir = dirname(dir)
  }
  return null
}

/** Query limits, applied to HTTP and WebSocket operations alike (both run through yoga's envelop). */
const armor = (production: boolean) =>
  EnvelopArmorPlugin({
    maxDepth: { n: 12 },
    maxAliases: { n: 20 },
    maxTokens: { n: 2000 },
    maxDirectives: { n: 20 },
    // cost is the complexity plugin's (schema/cost.ts): it weighs list sizes and JSON payloads
    costLimit: { enabled: false },
    blockFieldSuggestion: { enabled: production },
  })

/**
 * yoga's introspection switch decides per HTTP request (in onRequestParse), which WebSocket
 * operations never pass through; this refuses introspection in those too.
 */
const useNoIntrospectionOverWebSocket = (): Plugin<Context> => ({
  onValidate: ({ addValidationRule, context }) => {
    if (!(context as { request?: unknown }).request) addValidationRule(NoSchemaIntrospectionCustomRule)
  },
})

/**
 * Subscriptions are served over WebSocket only: yoga would also serve them over HTTP as
 * server-sent events, where the per-principal limits and revocation (both kept per socket)
 * would not hold.
 */
const useWebSocketOnlySubscriptions = (): Plugin<Context> => ({
  onSubscribe: ({ args, setResultAndStopExecution }) => {
    if ((args.contextValue as { request?: unknown }).request) {
      setResultAndStopExecution({ errors: [badInput('Subscriptions are served over WebSocket (graphql-ws protocol) at /graphql.')] })
    }
  },
})

/** Logs unexpected (masked) errors with the request id, so a client's report can be traced. */
const useUnexpectedErrorLog = (): Plugin<Context> => ({
  onExecute: () => ({
    onExecuteDone: ({ args, result }) => {
      if (!('errors' in result) || !result.errors) return
      const ctx = args.contextValue
      for (const error of result.errors) {
        const original = error.originalError
        if (original && !(original instanceof GraphQLError)) ctx.log.error({ err: original, path: error.path }, 'unexpected error')
      }
    },
  }),
})

/**
 * Wakes the webhook dispatcher after each mutation: whatever it changed has committed by then,
 * and any delivery it wrote (the outbox trigger, a test event, a redelivery) goes out at once
 * rather than at the next interval.
 */
const useWebhookWake = (dispatcher: WebhookDispatcher): Plugin<Context> => ({
  onExecute: ({ args }) => {
    if (getOperationAST(args.document, args.operationName)?.operation !== 'mutation') return
    return { onExecuteDone: () => dispatcher.wake() }
  },
})

/** Builds the HTTP + WebSocket server of the API on one port, path /graphql. */
export function buildApp(options: AppOptions): App {
  const { db, logger, redis } = options
  const clock = options.clock ?? systemClock
  const production = options.production ?? false
  const pubsub = options.pubsub ?? createAppPubSub()
  const publishChanges = createNotifier(db.prisma, pubsub, logger)
  const inbox = createInboxHub({ prisma: db.prisma, pubsub, log: logger.child({ part: 'inbox' }) })
  const catchUpIntervalMs = options.catchUpIntervalMs ?? 2000
  const introspection = options.introspection ?? !production
  const maxBodyBytes = options.maxBodyBytes ?? 2 * 1024 * 1024
  const allowedOrigins = originSet(options.allowedOrigins)
  const rules = createRuleCache({ pubsub, clock, log: logger.child({ part: 'rules' }), ttlMs: options.ruleCacheTtlMs })
  const actionTypes = createActionTypeRegistry({ pubsub, clock, log: logger.child({ part: 'action-types' }), ttlMs: options.ruleCacheTtlMs })
  const modules = createModuleVisibilityCache({ pubsub, clock, log: logger.child({ part: 'modules' }), ttlMs: options.ruleCacheTtlMs })
  const limits = { maxJsonBytes: options.maxJsonBytes ?? DEFAULT_MAX_JSON_BYTES, rules, actionTypes, modules }
  // the registry's WebSocket gauges read the connections when scraped, once they exist
  const metrics = createMetrics({ prisma: db.prisma, clock, connections: () => connections.stats() })
  const notificationSettings = options.notifications ?? { publicUrl: 'http://localhost' }
  const slack = notificationSettings.slack ? createSlack(notificationSettings.slack) : undefined
  const notifications = startNotifications({
    prisma: db.prisma,
    clock,
    log: logger.child({ part: 'notifications' }),
    settings: notificationSettings,
    mailer: notificationSettings.email ? createMailer(notificationSettings.email) : undefined,
    slack,
    actionTypes,
    onDelivered: (channel, outcome) => metrics.deliveries.inc({ channel, outcome }),
  })
  // every published change may have written notifications (the outbox's triggers): send them now
  const notify = wakingNotifier(publishChanges, notifications)
  const linkOptions = { prisma: db.prisma, clock, notify, actionTypes, maxJsonBytes: limits.maxJsonBytes }
  const serveDecidePage = createDecidePage({ ...linkOptions, log: logger.child({ part: 'decide-page' }), publicUrl: notificationSettings.publicUrl })
  const serveSlack =
    slack && notificationSettings.slack
      ? createSlackInteractivity({ ...linkOptions, log: logger.child({ part: 'slack' }), slack, signingSecret: notificationSettings.slack.signingSecret })
      : undefined
  const executions = { maxAttempts: options.maxExecutionAttempts ?? DEFAULT_MAX_EXECUTION_ATTEMPTS }
  const audit = startAuditSequencer({
    prisma: db.prisma,
    intervalMs: options.auditIntervalMs ?? 1000,
    log: logger.child({ part: 'audit' }),
    onNumbered: (events) => metrics.countEvents(events),
  })

  const webhookSettings = { allowPrivateNetworks: options.webhooks?.allowPrivateNetworks ?? false }
  const webhooks = startWebhookDispatcher({
    prisma: db.prisma,
    clock,
    log: logger.child({ part: 'webhooks' }),
    intervalMs: options.webhooks?.intervalMs ?? 1000,
    allowPrivateNetworks: webhookSettings.allowPrivateNetworks,
    timeoutMs: options.webhooks?.timeoutMs,
    random: options.webhooks?.random,
    onAttempt: (attempt) => {
      metrics.deliveries.inc({ channel: 'webhook', outcome: attempt.status === 'SUCCEEDED' ? 'succeeded' : attempt.status === 'FAILED' ? 'given_up' : 'failed' })
      options.webhooks?.onAttempt?.(attempt)
    },
  })

  const viewers = createViewerCache({ prisma: db.prisma, pubsub, clock, log: logger.child({ part: 'auth' }), ttlMs: options.authCacheTtlMs })

  async function contextFor(authorization: unknown, requestId: string, client: unknown): Promise<Context> {
    const log = logger.child({ requestId })
    let viewer: Viewer | null = null
    if (authorization !== undefined && authorization !== null && authorization !== '') {
      const token = parseBearer(authorization)
      viewer = token ? await viewers.viewerFor(token) : null
      if (!viewer) throw unauthenticated('Invalid, revoked or malformed token.')
    }
    return { viewer, requestId, client: client === 'inbox' ? 'inbox' : 'api', log, prisma: db.prisma, clock, pubsub, notify, inbox, actionTypes, audit, catchUpIntervalMs, limits, executions, onSubscribed: options.onSubscribed, webhooks: { settings: webhookSettings, dispatcher: webhooks } }
  }

  const yoga = createYoga<{ req?: IncomingMessage; requestId?: string; connectionParams?: Record<string, unknown> }, Context>({
    schema,
    graphqlEndpoint: '/graphql',
    healthCheckEndpoint: '/healthz',
    landingPage: false,
    graphiql: !production && { subscriptionsProtocol: 'WS' },
    logging: yogaLogger(logger),
    maskedErrors: { isDev: !production },
    context: ({ request, connectionParams, requestId }) =>
      contextFor(
        connectionParams ? connectionParams.authorization : request.headers.get('authorization'),
        requestId ?? request.headers.get('x-request-id') ?? randomUUID(),
        connectionParams ? connectionParams.client : request.headers.get('x-approvals-client'),
      ),
    plugins: [
      armor(production),
      useInputTextChecks(),
      useWebSocketOnlySubscriptions(),
      // a POST must carry JSON (415 otherwise), a GET (queries only) the header a cross-site page cannot send without asking
      useJsonPostsOnly(),
      useCSRFPrevention({ requestHeaders: ['x-graphql-yoga-csrf'] }),
      useReadinessCheck({
        endpoint: '/readyz',
        check: async () => {
          await db.ping()
          if (redis) await redis.ping()
          return true
        },
      }),
      ...(introspection ? [] : [useDisableIntrospection(), useNoIntrospectionOverWebSocket()]),
      useMutationRateLimit({ perMinute: options.rateLimit?.perMinute ?? 600, redis: options.rateLimit?.redis, log: logger }),
      useUnexpectedErrorLog(),
      useWebhookWake(webhooks),
      // operations by name and outcome, with latency histograms (served from our own /metrics)
      usePrometheus({
        registry: metrics.registry,
        endpoint: false,
        // what operators use, at a cost per request that stays small: the duration histogram (by
        // operation name and type), errors, and execution; not the per-field deprecation walk, the
        // summary's quantiles or the parse and validate phases
        metrics: {
          graphql_envelop_request_duration: true,
          graphql_envelop_error_result: true,
          graphql_envelop_phase_execute: true,
          graphql_envelop_phase_subscribe: true,
          graphql_envelop_request: false,
          graphql_envelop_request_time_summary: false,
          graphql_envelop_phase_parse: false,
          graphql_envelop_phase_validate: false,
          graphql_envelop_phase_context: false,
          graphql_envelop_deprecated_field: false,
          graphql_envelop_schema_change: false,
          graphql_yoga_http_duration: false,
        },
      }),
      // spans of operations (no variables or results: they hold what agents send and get), each with the request id
      ...(options.tracerProvider
        ? [useOpenTelemetry({ document: true, variables: false, result: false, resolvers: false }, options.tracerProvider, SpanKind.SERVER, {}, 'approvals'), useRequestIdOnSpans()]
        : []),
    ],
  })

  const serveMetrics = createMetricsHandler(metrics.registry, logger)
  // on the main port: for a scraper bearing the token; not there at all without one
  const serveMetricsWithToken = (req: IncomingMessage, res: ServerResponse) => {
    if (!options.metricsToken) {
      res.statusCode = 404
      return res.end()
    }
    if (!bearerMatches(req.headers.authorization, options.metricsToken)) {
      res.statusCode = 401
      res.setHeader('www-authenticate', 'Bearer realm="metrics"')
      return res.end()
    }
    serveMetrics(req, res)
  }
  let metricsServer: Server | undefined

  const clientDir = options.clientDir === undefined ? findClientDist() : options.clientDir
  const serveClient = clientDir ? createInboxHandler(clientDir) : undefined
  const isApi = (url: string | undefined) => /^\/(graphql|healthz|readyz)(\/|\?|$)/.test(url ?? '')

  const server = createServer((req, res) => {
    // the request id is echoed so that a client can quote it; yoga's context reads the same
    // header, so a refused one is replaced there too
    const requestId = requestIdFor(req.headers['x-request-id'])
    req.headers['x-request-id'] = requestId
    res.setHeader('x-request-id', requestId)
    const pathname = (req.url ?? '/').split('?')[0]!
    setSecurityHeaders(res, !production && isGraphiQLRequest(req.method, pathname, req.headers.accept) ? 'graphiql' : 'strict')
    if (req.url !== '/healthz' && req.url !== '/readyz') {
      const started = performance.now()
      res.once('finish', () =>
        logger.info(
          // a decision link's token is a credential: never in the logs
          { requestId, method: req.method, url: req.url?.replace(/^\/decide\/[^/?]*/, '/decide/…'), status: res.statusCode, ms: Math.round(performance.now() - started) },
          'request',
        ),
      )
    }
    if (pathname === '/metrics') return serveMetricsWithToken(req, res)
    if (isApi(req.url)) {
      if (req.method === 'GET' || req.method === 'HEAD') return void yoga.handle(req, res)
      // the whole body, within the limit, before yoga parses it; yoga reads a buffered body from req.body
      return void readBodyWithin(req, res, maxBodyBytes).then((body) => {
        if (body) yoga.handle(Object.assign(req, { body }), res)
      })
    }
    const decideLink = /^\/decide\/([^/]*)\/?$/.exec(pathname)
    if (decideLink) return serveDecidePage(req, res, decideLink[1]!)
    if (pathname === '/integrations/slack/interactivity') {
      if (serveSlack) return serveSlack(req, res)
      res.statusCode = 404
      res.setHeader('content-type', 'text/plain; charset=utf-8')
      return void res.end('Slack is not configured (SLACK_BOT_TOKEN, SLACK_SIGNING_SECRET).')
    }
    if (serveClient) return serveClient(req, res)
    res.statusCode = 404
    res.setHeader('content-type', 'text/plain; charset=utf-8')
    res.end('The inbox is not built. Run `npm run build` (npm start does), or use the API at /graphql.')
  })

  const wss = new WebSocketServer({
    server,
    path: yoga.graphqlEndpoint,
    maxPayload: maxBodyBytes,
    // a page on another site must not open a connection through a reviewer's browser
    verifyClient: ({ req }, done) => {
      const origin = req.headers.origin
      if (isOriginAllowed(origin, req.headers.host, allowedOrigins)) return done(true)
      logger.warn({ origin: origin?.slice(0, 200) }, 'WebSocket from a foreign origin refused')
      done(false, 403, 'Forbidden origin')
    },
  })
  const connections = new ConnectionRegistry({
    maxConnectionsPerToken: options.maxConnectionsPerToken ?? 20,
    maxOperationsPerPrincipal: options.maxSubscriptionsPerPrincipal ?? 200,
    maxOperationsPerConnection: options.maxSubscriptionsPerConnection ?? 100,
  })
  const wsServer = useServer<Record<string, unknown>, { viewer: Viewer }>(
    {
      connectionInitWaitTimeout: 10_000,
      onConnect: async (ctx) => {
        const token = parseBearer(ctx.connectionParams?.authorization)
        if (!token) {
          ctx.extra.socket.close(CloseCode.Unauthorized, 'Unauthorized: send connectionParams.authorization = "Bearer <token>"')
          return false
        }
        const viewer = await viewers.viewerFor(token)
        if (!viewer) return false // graphql-ws closes with 4403 Forbidden
        // closes with 4429 past the token's connections; counted until the socket closes
        return connections.admit(ctx.extra.socket, viewer)
      },
      onSubscribe: async (ctx, id, payload) => {
        // counted from here (until complete, error or close), so that operations arriving
        // together cannot all pass the per-connection and per-principal checks
        const refused = connections.startOperation(ctx.extra.socket, id)
        if (refused) return [refused]
        const refuse = (errors: readonly GraphQLError[]) => (connections.endOperation(ctx.extra.socket, id), errors)
        const { schema, execute, subscribe, contextFactory, parse, validate } = yoga.getEnveloped({
          req: ctx.extra.request,
          requestId: randomUUID(),
          connectionParams: ctx.connectionParams,
          params: payload,
          socket: ctx.extra.socket,
        })
        // parse, validate (where graphql-armor throws its limits) and authenticate: any
        // GraphQLError goes back to the client as the operation's errors
        let document, contextValue
        try {
          document = parse(payload.query)
          const errors = validate(schema, document)
          if (errors.length > 0) return refuse(errors)
          contextValue = await contextFactory()
        } catch (err) {
          connections.endOperation(ctx.extra.socket, id)
          if (err instanceof GraphQLError) return [err]
          throw err
        }
        return {
          schema,
          document,
          operationName: payload.operationName,
          variableValues: payload.variables,
          contextValue,
          rootValue: { execute, subscribe },
        }
      },
      onComplete: (ctx, id) => connections.endOperation(ctx.extra.socket, id),
      execute: (args) => (args.rootValue as { execute: typeof import('graphql').execute }).execute(args),
      subscribe: async (args) => {
        const result = await (args.rootValue as { subscribe: typeof import('graphql').subscribe }).subscribe(args)
        return Symbol.asyncIterator in result ? stoppable(result) : result
      },
    },
    wss,
  )

  const scheduler = startScheduler({
    prisma: db.prisma,
    clock,
    intervalMs: options.schedulerIntervalMs ?? 1000,
    log: logger.child({ part: 'scheduler' }),
    executions,
    onChanges: async (changes) => {
      const changed = [...changes.expired, ...changes.autoApproved, ...changes.escalated]
      await Promise.all([...changed.map((id) => notify.changed(id)), ...changes.requeued.map((id) => notify.readyToRun(id))])
      // expiries, escalations, automatic approvals and failed executions wrote deliveries
      webhooks.wake()
      await options.onDeadlinesPassed?.(changes)
    },
  })


  const access = watchAccess({
    pubsub,
    prisma: db.prisma,
    registry: connections,
    sweepIntervalMs: options.accessSweepIntervalMs ?? 5000,
    log: logger.child({ part: 'access' }),
    onMissedRevocation: () => viewers.invalidate(),
  })

  let stopping: Promise<void> | undefined
  return {
    server,
    scheduler,
    audit,
    metrics,
    listenMetrics: (port) =>
      new Promise((resolve, reject) => {
        // loopback only: the port has no token
        metricsServer = createServer((req, res) => {
          if ((req.url ?? '/').split('?')[0] === '/metrics') return serveMetrics(req, res)
          res.statusCode = 404
          res.end()
        })
        metricsServer.once('error', reject)
        metricsServer.listen(port, '127.0.0.1', () => resolve((metricsServer!.address() as AddressInfo).port))
      }),
    notifications,
    webhooks,
    pubsub,
    connections,
    viewers,
    listen: async (port, host) => {
      // the triggers write notifications for the channels this instance sends, from the first request on
      await notifications.ready()
      return new Promise((resolve, reject) => {
        server.once('error', reject)
        server.listen(port, host, () => {
          server.off('error', reject)
          resolve((server.address() as AddressInfo).port)
        })
      })
    },
    stop: () =>
      (stopping ??= (async () => {
        await scheduler.stop()
        await audit.stop()
        metricsServer?.close()
        await notifications.stop()
        await webhooks.stop()
        await access.stop()
        viewers.stop()
        rules.stop()
        actionTypes.stop()
        modules.stop()
        const closed = new Promise<void>((resolve) => server.close(() => resolve()))
        server.closeIdleConnections()
        for (const client of wss.clients) client.close(1001, 'Server shutting down')
        await wsServer.dispose()
        const cutoff = setTimeout(() => server.closeAllConnections(), options.shutdownTimeoutMs ?? 10_000)
        await closed
        clearTimeout(cutoff)
        await yoga.dispose()
        await db.close()
      })()),
  }
}
