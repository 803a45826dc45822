import { pino, type Logger } from 'pino'
import type { YogaLogger } from 'graphql-yoga'

export type { Logger }

export function createLogger(level: string): Logger {
  return pino({ level, base: { service: 'approvals' } })
}

/** Routes graphql-yoga's own log lines into pino. */
export function yogaLogger(log: Logger): YogaLogger {
  const write =
    (level: 'debug' | 'info' | 'warn' | 'error') =>
    (...args: unknown[]) => {
      const [first, ...rest] = args
      if (first instanceof Error) log[level]({ err: first }, rest.map(String).join(' ') || first.message)
      else log[level](args.map((a) => (typeof a === 'string' ? a : JSON.stringify(a))).join(' '))
    }
  return { debug: write('debug'), info: write('info'), warn: write('warn'), error: write('error') }
}
