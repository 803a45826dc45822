// Reads the configuration, opens the database, applies migrations, bootstraps the first owner,
// and serves until SIGTERM or SIGINT. The only module with process-wide effects.
import { Redis } from 'ioredis'
import { createTracerProvider } from './tracing.js'
import { buildApp } from './app.js'
import { ConfigError, loadConfig } from './config.js'
import { openDatabase } from './db.js'
import { generateToken } from './auth/tokens.js'
import { bootstrapOwner } from './directory/directory.js'
import { createLogger } from './logger.js'
import { startPeriodicTask } from './periodic.js'
import { createAppPubSub } from './pubsub.js'

/** How often PGlite's planner statistics are refreshed (see Database.analyze). */
const ANALYZE_INTERVAL_MS = 10 * 60_000

async function main() {
  let config
  try {
    config = loadConfig()
  } catch (err) {
    if (err instanceof ConfigError) {
      console.error(err.message)
      process.exit(2)
    }
    throw err
  }
  const logger = createLogger(config.logLevel)
  const db = await openDatabase(config.databaseUrl ? { url: config.databaseUrl } : { dataDir: config.dataDir })
  logger.info({ database: db.kind, ...(db.kind === 'pglite' ? { dataDir: config.dataDir } : {}) }, 'database opened')
  await db.migrate((message) => logger.info(message))
  // PGlite has no autovacuum: statistics now, and as the tables grow (ANALYZE samples a bounded
  // number of rows, so each run costs about the same however large they get)
  await db.analyze()
  const analyzing = startPeriodicTask({
    name: 'ANALYZE',
    log: logger,
    intervalMs: ANALYZE_INTERVAL_MS,
    runAtStart: false,
    pass: () => db.analyze().catch((err) => logger.warn({ err }, 'ANALYZE failed')),
  })
  // An empty directory needs its first owner. With APPROVALS_BOOTSTRAP_TOKEN, that token; outside
  // production without it, a generated one, shown once as a sign-in link (a newcomer's `npm start`);
  // in production the operator must choose it.
  let signInToken: string | undefined
  if (config.bootstrap) {
    const created = await bootstrapOwner(db.prisma, config.bootstrap)
    if (created) logger.info({ email: config.bootstrap.email }, 'created the first owner with APPROVALS_BOOTSTRAP_TOKEN')
  } else if ((await db.prisma.user.count()) === 0) {
    if (config.env === 'production') {
      console.error('The directory is empty: set APPROVALS_BOOTSTRAP_TOKEN (at least 16 characters) to create the first owner.')
      await db.close()
      process.exit(2)
    }
    const token = generateToken()
    if (await bootstrapOwner(db.prisma, { token, email: 'owner@localhost', name: 'Owner' })) signInToken = token
  }
  // Redis: one client publishes (and answers /readyz), failing fast while Redis is down; one
  // subscribes, queueing its SUBSCRIBEs until Redis is back, and re-subscribing after reconnects.
  const redis = config.redisUrl
    ? {
        publish: new Redis(config.redisUrl, { lazyConnect: true, enableOfflineQueue: false, maxRetriesPerRequest: 1 }),
        subscribe: new Redis(config.redisUrl, { lazyConnect: true, maxRetriesPerRequest: null }),
      }
    : undefined
  if (redis) {
    for (const [role, client] of Object.entries(redis)) {
      client.on('error', (err) => logger.warn({ err: err.message, role }, 'redis connection error'))
      await client.connect().catch((err) => logger.warn({ err: err.message, role }, 'redis not reachable yet; /readyz reports it'))
    }
  }
  const pubsub = redis
    ? createAppPubSub({ ...redis, onPublishError: (err) => logger.warn({ err }, 'redis publish failed') })
    : undefined
  // traces only when a collector is named: the exporter reads OTEL_EXPORTER_OTLP_ENDPOINT (and OTEL_*) itself
  const tracerProvider = config.otlpEndpoint ? await createTracerProvider() : undefined
  const app = buildApp({
    db,
    logger,
    redis: redis?.publish,
    pubsub,
    production: config.env === 'production',
    shutdownTimeoutMs: config.shutdownTimeoutMs,
    schedulerIntervalMs: config.schedulerIntervalMs,
    auditIntervalMs: config.auditIntervalMs,
    metricsToken: config.metricsToken,
    tracerProvider,
    introspection: config.introspection,
    allowedOrigins: config.allowedOrigins,
    maxConnectionsPerToken: config.maxConnectionsPerToken,
    maxSubscriptionsPerPrincipal: config.maxSubscriptionsPerPrincipal,
    // counted in Redis through the publishing client, which fails fast while Redis is down
    // (the limiter then counts in memory)
    rateLimit: { perMinute: config.rateLimitPerMinute, redis: redis?.publish },
    maxBodyBytes: config.maxBodyBytes,
    maxJsonBytes: config.maxJsonBytes,
    maxExecutionAttempts: config.maxExecutionAttempts,
    accessSweepIntervalMs: config.accessSweepIntervalMs,
    authCacheTtlMs: config.authCacheTtlMs,
    ruleCacheTtlMs: config.ruleCacheTtlMs,
    // due notifications (retries, those another instance wrote) are looked for as often as deadlines
    notifications: { publicUrl: config.publicUrl, email: config.email, slack: config.slack, intervalMs: config.schedulerIntervalMs },
    webhooks: { allowPrivateNetworks: config.webhookAllowPrivateNetworks, intervalMs: config.schedulerIntervalMs },
  })
  const port = await app.listen(config.port, config.host)
  if (signInToken) {
    // shown once: only its hash is stored
    const signIn = `http://localhost:${port}/#token=${signInToken}`
    logger.warn({ signIn, token: signInToken }, `created the first owner; sign in to the inbox at ${signIn} (shown once: keep the token)`)
  }
  logger.info({ port, graphql: `http://localhost:${port}/graphql` }, 'approvals listening')
  if (config.metricsPort !== undefined) {
    const metricsPort = await app.listenMetrics(config.metricsPort)
    logger.info({ metrics: `http://127.0.0.1:${metricsPort}/metrics` }, 'metrics listening on loopback')
  }

  const shutdown = async (signal: string) => {
    logger.info({ signal }, 'shutting down')
    try {
      await analyzing.stop()
      await app.stop()
      // the last spans go out before the process does
      await tracerProvider?.shutdown()
      redis?.publish.disconnect()
      redis?.subscribe.disconnect()
      process.exit(0)
    } catch (err) {
      logger.error({ err }, 'shutdown failed')
      process.exit(1)
    }
  }
  process.once('SIGTERM', () => void shutdown('SIGTERM'))
  process.once('SIGINT', () => void shutdown('SIGINT'))
}

main().catch((err) => {
  console.error(err)
  process.exit(1)
})
