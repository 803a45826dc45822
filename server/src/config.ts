import { resolve } from 'node:path'
import { z } from 'zod'

const LOG_LEVELS = ['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'] as const

const EnvSchema = z.object({
  NODE_ENV: z.enum(['development', 'production', 'test']).default('development'),
  HOST: z.string().min(1).default('0.0.0.0'),
  PORT: z.coerce.number().int().min(0).max(65535).default(4000),
  DATABASE_URL: z
    .string()
    .regex(/^postgres(ql)?:\/\//, 'must be a postgres:// or postgresql:// URL')
    .optional(),
  APPROVALS_DATA_DIR: z.string().min(1).default('./data'),
  APPROVALS_BOOTSTRAP_TOKEN: z
    .string()
    .min(16, 'must be at least 16 characters: it is an owner credential')
    .optional(),
  APPROVALS_BOOTSTRAP_EMAIL: z.email().default('owner@localhost'),
  APPROVALS_BOOTSTRAP_NAME: z.string().min(1).default('Owner'),
  REDIS_URL: z
    .string()
    .regex(/^rediss?:\/\//, 'must be a redis:// or rediss:// URL')
    .optional(),
  LOG_LEVEL: z.enum(LOG_LEVELS).optional(),
  SHUTDOWN_TIMEOUT_MS: z.coerce.number().int().min(0).default(10_000),
  APPROVALS_SCHEDULER_INTERVAL_MS: z.coerce.number().int().min(100).default(1000),
  APPROVALS_AUDIT_INTERVAL_MS: z.coerce.number().int().min(100).default(1000),
  APPROVALS_METRICS_TOKEN: z.string().min(16, 'must be at least 16 characters: it guards /metrics').optional(),
  METRICS_PORT: z.coerce.number().int().min(1).max(65535).optional(),
  OTEL_EXPORTER_OTLP_ENDPOINT: z.url('must be a URL like http://collector:4318').optional(),
  APPROVALS_INTROSPECTION: z.enum(['true', 'false'], 'must be true or false').optional(),
  APPROVALS_ALLOWED_ORIGINS: z
    .string()
    .transform((value, ctx) => {
      const origins: string[] = []
      for (const item of value.split(',').map((s) => s.trim()).filter(Boolean)) {
        const origin = parseOrigin(item)
        if (origin) origins.push(origin)
        else ctx.addIssue({ code: 'custom', message: `"${item}" is not an origin like https://inbox.example.com (scheme, host, optional port; no path)` })
      }
      return origins
    })
    .optional(),
  APPROVALS_MAX_CONNECTIONS_PER_TOKEN: z.coerce.number().int().min(1).default(20),
  APPROVALS_MAX_SUBSCRIPTIONS_PER_PRINCIPAL: z.coerce.number().int().min(1).default(200),
  APPROVALS_RATE_LIMIT: z.coerce.number().int().min(0).default(600),
  APPROVALS_MAX_BODY_BYTES: z.coerce.number().int().min(1024).max(1024 ** 3).default(2 * 1024 * 1024),
  APPROVALS_MAX_EXECUTION_ATTEMPTS: z.coerce.number().int().min(1).max(100).default(5),
  APPROVALS_AUTH_CACHE_TTL_MS: z.coerce.number().int().min(0).max(3_600_000).default(300_000),
  APPROVALS_RULE_CACHE_TTL_MS: z.coerce.number().int().min(0).max(3_600_000).default(300_000),
  APPROVALS_MAX_JSON_BYTES: z.coerce.number().int().min(1024).max(64 * 1024 * 1024).default(256 * 1024),
  APPROVALS_WEBHOOK_ALLOW_PRIVATE_NETWORKS: z.enum(['true', 'false'], 'must be true or false').default('false'),
  APPROVALS_ACCESS_SWEEP_INTERVAL_MS: z.coerce
    .number()
    .int()
    .refine((n) => n === 0 || n >= 100, 'must be 0 (off) or at least 100')
    .default(5000),
  SMTP_URL: z.string().regex(/^smtps?:\/\/[^\s]+$/, 'must be an smtp:// or smtps:// URL, like smtp://user:pass@mail.example.com:587').optional(),
  // a header: a line break in it would let it add headers of its own
  APPROVALS_EMAIL_FROM: z.string().max(320).regex(/^[^\r\n]+$/, 'must be one line, like "Approvals <approvals@example.com>"').default('Approvals <approvals@localhost>'),
  APPROVALS_PUBLIC_URL: z
    .string()
    .regex(/^https?:\/\/[^\s?#]+$/i, 'must be an http(s) URL without query or fragment, like https://approvals.example.com')
    .transform((url) => url.replace(/\/+$/, ''))
    .optional(),
  SLACK_BOT_TOKEN: z.string().regex(/^xox[a-z]-\S+$/, 'must be a Slack bot token (xoxb-...)').optional(),
  SLACK_SIGNING_SECRET: z.string().min(8, "must be the Slack app's signing secret").optional(),
  SLACK_API_URL: z
    .string()
    .regex(/^https?:\/\/\S+$/, 'must be an http(s) URL')
    .transform((url) => (url.endsWith('/') ? url : `${url}/`))
    .default('https://slack.com/api/'),
})

/** `scheme://host[:port]` as browsers send it in the Origin header, or null for anything else. */
function parseOrigin(value: string): string | null {
  if (!/^https?:\/\/[^/?#]+\/?$/i.test(value)) return null
  try {
    return new URL(value).origin
  } catch {
    return null
  }
}

export type Config = {
  env: 'development' | 'production' | 'test'
  host: string
  port: number
  /** PostgreSQL when set; otherwise embedded PGlite in `dataDir`. */
  databaseUrl: string | undefined
  dataDir: string
  bootstrap: { token: string; email: string; name: string } | undefined
  redisUrl: string | undefined
  logLevel: (typeof LOG_LEVELS)[number]
  shutdownTimeoutMs: number
  schedulerIntervalMs: number
  /** How often new events are numbered for the audit feed and anchored in a checkpoint. */
  auditIntervalMs: number
  /** /metrics on the main port answers requests bearing it; undefined: 404 there. */
  metricsToken: string | undefined
  /** /metrics without a token on this port of 127.0.0.1, when set. */
  metricsPort: number | undefined
  /** Traces are exported over OTLP/HTTP to this collector when set. */
  otlpEndpoint: string | undefined
  /** Whether the schema can be introspected; undefined: on outside production, off in production. */
  introspection: boolean | undefined
  /** Browser origins, besides the server's own, whose pages may open a WebSocket. */
  allowedOrigins: string[]
  maxConnectionsPerToken: number
  maxSubscriptionsPerPrincipal: number
  /** Calls per principal per minute to the mutations that create or decide requests; 0: no limit. */
  rateLimitPerMinute: number
  /** Largest HTTP request body and WebSocket message. */
  maxBodyBytes: number
  /** The largest params and context of a request, each, as JSON bytes. */
  maxJsonBytes: number
  /** Attempts before an approved action that keeps failing is FAILED. */
  maxExecutionAttempts: number
  accessSweepIntervalMs: number
  authCacheTtlMs: number
  ruleCacheTtlMs: number
  /** Where people reach the service (links in emails and Slack messages), without a trailing slash. */
  publicUrl: string
  /** Email notifications; undefined without SMTP_URL (email off). */
  email: { smtpUrl: string; from: string } | undefined
  /** Slack notifications and decisions; undefined without SLACK_BOT_TOKEN (Slack off). */
  slack: { botToken: string; signingSecret: string; apiUrl: string } | undefined
  /** Whether webhooks may go to loopback and private networks (and over plain http there). */
  webhookAllowPrivateNetworks: boolean
}

export class ConfigError extends Error {
  override name = 'ConfigError'
}

/** Reads the configuration from environment variables, once, with one clear error listing every bad variable. */
export function loadConfig(env: NodeJS.ProcessEnv = process.env): Config {
  // an empty variable means "not set", as in most shells' `VAR= cmd`
  const present = Object.fromEntries(Object.entries(env).filter(([, v]) => v !== undefined && v !== ''))
  const parsed = EnvSchema.safeParse(present)
  if (!parsed.success) {
    const lines = parsed.error.issues.map((i) => `  ${i.path.join('.')}: ${i.message}`)
    throw new ConfigError(`Invalid configuration:\n${lines.join('\n')}`)
  }
  const e = parsed.data
  const problems: string[] = []
  if (!!e.SLACK_BOT_TOKEN !== !!e.SLACK_SIGNING_SECRET) {
    // buttons whose clicks cannot be verified, or a verifier with no messages to click
    problems.push('  SLACK_BOT_TOKEN and SLACK_SIGNING_SECRET: set both for Slack, or neither')
  }
  if (e.NODE_ENV === 'production' && !e.APPROVALS_PUBLIC_URL && (e.SMTP_URL || e.SLACK_BOT_TOKEN)) {
    problems.push('  APPROVALS_PUBLIC_URL: required in production with email or Slack: their links must reach this service')
  }
  if (problems.length > 0) throw new ConfigError(`Invalid configuration:\n${problems.join('\n')}`)
  return {
    env: e.NODE_ENV,
    host: e.HOST,
    port: e.PORT,
    databaseUrl: e.DATABASE_URL,
    dataDir: resolve(e.APPROVALS_DATA_DIR),
    bootstrap: e.APPROVALS_BOOTSTRAP_TOKEN
      ? { token: e.APPROVALS_BOOTSTRAP_TOKEN, email: e.APPROVALS_BOOTSTRAP_EMAIL, name: e.APPROVALS_BOOTSTRAP_NAME }
      : undefined,
    redisUrl: e.REDIS_URL,
    logLevel: e.LOG_LEVEL ?? (e.NODE_ENV === 'test' ? 'silent' : 'info'),
    shutdownTimeoutMs: e.SHUTDOWN_TIMEOUT_MS,
    schedulerIntervalMs: e.APPROVALS_SCHEDULER_INTERVAL_MS,
    auditIntervalMs: e.APPROVALS_AUDIT_INTERVAL_MS,
    metricsToken: e.APPROVALS_METRICS_TOKEN,
    metricsPort: e.METRICS_PORT,
    otlpEndpoint: e.OTEL_EXPORTER_OTLP_ENDPOINT,
    introspection: e.APPROVALS_INTROSPECTION === undefined ? undefined : e.APPROVALS_INTROSPECTION === 'true',
    allowedOrigins: e.APPROVALS_ALLOWED_ORIGINS ?? [],
    maxConnectionsPerToken: e.APPROVALS_MAX_CONNECTIONS_PER_TOKEN,
    maxSubscriptionsPerPrincipal: e.APPROVALS_MAX_SUBSCRIPTIONS_PER_PRINCIPAL,
    rateLimitPerMinute: e.APPROVALS_RATE_LIMIT,
    maxBodyBytes: e.APPROVALS_MAX_BODY_BYTES,
    maxJsonBytes: e.APPROVALS_MAX_JSON_BYTES,
    maxExecutionAttempts: e.APPROVALS_MAX_EXECUTION_ATTEMPTS,
    accessSweepIntervalMs: e.APPROVALS_ACCESS_SWEEP_INTERVAL_MS,
    authCacheTtlMs: e.APPROVALS_AUTH_CACHE_TTL_MS,
    ruleCacheTtlMs: e.APPROVALS_RULE_CACHE_TTL_MS,
    publicUrl: e.APPROVALS_PUBLIC_URL ?? `http://localhost:${e.PORT}`,
    email: e.SMTP_URL ? { smtpUrl: e.SMTP_URL, from: e.APPROVALS_EMAIL_FROM } : undefined,
    slack:
      e.SLACK_BOT_TOKEN && e.SLACK_SIGNING_SECRET
        ? { botToken: e.SLACK_BOT_TOKEN, signingSecret: e.SLACK_SIGNING_SECRET, apiUrl: e.SLACK_API_URL }
        : undefined,
    webhookAllowPrivateNetworks: e.APPROVALS_WEBHOOK_ALLOW_PRIVATE_NETWORKS === 'true',
  }
}
