import { randomUUID } from 'node:crypto'
import { existsSync } from 'node:fs'
import { createServer, type IncomingMessage, type Server } from 'node:http'
import type { AddressInfo } from 'node:net'
import { dirname, join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { EnvelopArmorPlugin } from '@escape.tech/graphql-armor'
import { useCSRFPrevention } from '@graphql-yoga/plugin-csrf-prevention'
import { GraphQLError } from 'graphql'
import { createYoga, useReadinessCheck, type Plugin } from 'graphql-yoga'
import { CloseCode } from 'graphql-ws'
import { useServer } from 'graphql-ws/use/ws'
import type { Redis } from 'ioredis'
import sirv from 'sirv'
import { WebSocketServer } from 'ws'
import { parseBearer } from './auth/tokens.js'
import { viewerForToken, type Viewer } from './auth/viewer.js'
import { systemClock, type Clock } from './clock.js'
import type { Context } from './context.js'
import type { Database } from './db.js'
import { ApiError, unauthenticated } from './errors.js'
import { yogaLogger, type Logger } from './logger.js'
import { createNotifier } from './approvals/notify.js'
import { startScheduler, type Scheduler } from './approvals/scheduler.js'
import { createAppPubSub, type PubSub } from './pubsub.js'
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
  /** In-process when not given. */
  pubsub?: PubSub
  /** How often waiting subscriptions re-read the state and re-check the viewer's token (default 2 s). */
  catchUpIntervalMs?: number
  /** Operations one WebSocket connection may run at once (default 100). */
  maxSubscriptionsPerConnection?: number
  /** The built inbox, served at /; found as client/dist above this module when not given. */
  clientDir?: string | null
}

export interface App {
  server: Server
  scheduler: Scheduler
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
    // graphql-armor weighs fields by depth, not list sizes; list sizes are bounded by connection maxSize
    costLimit: { maxCost: 25_000 },
    blockFieldSuggestion: { enabled: production },
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

/** Builds the HTTP + WebSocket server of the API on one port, path /graphql. */
export function buildApp(options: AppOptions): App {
  const { db, logger, redis } = options
  const clock = options.clock ?? systemClock
  const production = options.production ?? false
  const pubsub = options.pubsub ?? createAppPubSub()
  const notify = createNotifier(db.prisma, pubsub, logger)
  const catchUpIntervalMs = options.catchUpIntervalMs ?? 2000

  async function contextFor(authorization: unknown, requestId: string): Promise<Context> {
    const log = logger.child({ requestId })
    let viewer: Viewer | null = null
    if (authorization !== undefined && authorization !== null && authorization !== '') {
      const token = parseBearer(authorization)
      viewer = token ? await viewerForToken(db.prisma, token, clock.now()) : null
      if (!viewer) throw unauthenticated('Invalid, revoked or malformed token.')
    }
    return { viewer, requestId, log, prisma: db.prisma, clock, pubsub, notify, catchUpIntervalMs }
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
      ),
    plugins: [
      armor(production),
      useCSRFPrevention({ requestHeaders: ['x-graphql-yoga-csrf', 'content-type'] }),
      useReadinessCheck({
        endpoint: '/readyz',
        check: async () => {
          await db.ping()
          if (redis) await redis.ping()
          return true
        },
      }),
      useUnexpectedErrorLog(),
    ],
  })

  const clientDir = options.clientDir === undefined ? findClientDist() : options.clientDir
  const serveClient = clientDir ? sirv(clientDir, { single: true, etag: true, gzip: false }) : undefined
  const isApi = (url: string | undefined) => /^\/(graphql|healthz|readyz)(\/|\?|$)/.test(url ?? '')

  const server = createServer((req, res) => {
    // the request id is echoed so that a client can quote it; yoga's context reads the same header
    const requestId = (req.headers['x-request-id'] as string | undefined) ?? randomUUID()
    req.headers['x-request-id'] = requestId
    res.setHeader('x-request-id', requestId)
    if (req.url !== '/healthz' && req.url !== '/readyz') {
      const started = performance.now()
      res.once('finish', () =>
        logger.info(
          { requestId, method: req.method, url: req.url, status: res.statusCode, ms: Math.round(performance.now() - started) },
          'request',
        ),
      )
    }
    if (isApi(req.url)) return void yoga.handle(req, res)
    if (serveClient) {
      return serveClient(req, res, () => {
        res.statusCode = 404
        res.end('Not found')
      })
    }
    res.statusCode = 404
    res.setHeader('content-type', 'text/plain; charset=utf-8')
    res.end('The inbox is not built. Run `npm run build` (npm start does), or use the API at /graphql.')
  })

  const wss = new WebSocketServer({ server, path: yoga.graphqlEndpoint, maxPayload: 1024 * 1024 })
  const maxSubscriptions = options.maxSubscriptionsPerConnection ?? 100
  // the operations running on each connection, to hold each one to maxSubscriptions
  const running = new WeakMap<object, Set<string>>()
  const wsServer = useServer<Record<string, unknown>, { viewer: Viewer }>(
    {
      connectionInitWaitTimeout: 10_000,
      onConnect: async (ctx) => {
        const token = parseBearer(ctx.connectionParams?.authorization)
        if (!token) {
          ctx.extra.socket.close(CloseCode.Unauthorized, 'Unauthorized: send connectionParams.authorization = "Bearer <token>"')
          return false
        }
        const viewer = await viewerForToken(db.prisma, token, clock.now())
        if (!viewer) return false // graphql-ws closes with 4403 Forbidden
        return true
      },
      onSubscribe: async (ctx, id, payload) => {
        const operations = running.get(ctx.extra.socket) ?? new Set<string>()
        running.set(ctx.extra.socket, operations)
        if (operations.size >= maxSubscriptions) {
          return [new ApiError('BAD_USER_INPUT', `At most ${maxSubscriptions} operations may run at once on one connection.`)]
        }
        // counted from here, so that operations arriving together cannot all pass the check
        operations.add(id)
        const refuse = (errors: readonly GraphQLError[]) => (operations.delete(id), errors)
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
          operations.delete(id)
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
      onComplete: (ctx, id) => void running.get(ctx.extra.socket)?.delete(id),
      execute: (args) => (args.rootValue as { execute: typeof import('graphql').execute }).execute(args),
      subscribe: (args) => (args.rootValue as { subscribe: typeof import('graphql').subscribe }).subscribe(args),
    },
    wss,
  )

  const scheduler = startScheduler({
    prisma: db.prisma,
    clock,
    intervalMs: options.schedulerIntervalMs ?? 1000,
    log: logger.child({ part: 'scheduler' }),
    onChanges: async (changes) => {
      await Promise.all([...changes.expired, ...changes.autoApproved, ...changes.escalated].map((id) => notify.changed(id)))
    },
  })

  let stopping: Promise<void> | undefined
  return {
    server,
    scheduler,
    listen: (port, host) =>
      new Promise((resolve, reject) => {
        server.once('error', reject)
        server.listen(port, host, () => {
          server.off('error', reject)
          resolve((server.address() as AddressInfo).port)
        })
      }),
    stop: () =>
      (stopping ??= (async () => {
        await scheduler.stop()
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
