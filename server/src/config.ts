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
})

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
  }
}
