// /metrics: the registry in Prometheus's text format.
import { createHash, timingSafeEqual } from 'node:crypto'
import type { IncomingMessage, ServerResponse } from 'node:http'
import type { Registry } from 'prom-client'
import type { Logger } from '../logger.js'

/** Answers GET (and HEAD) with the registry's metrics; anything else is 405. */
export function createMetricsHandler(registry: Registry, log: Logger) {
  return (req: IncomingMessage, res: ServerResponse) => {
    if (req.method !== 'GET' && req.method !== 'HEAD') {
      res.statusCode = 405
      res.setHeader('allow', 'GET, HEAD')
      return res.end()
    }
    registry.metrics().then(
      (text) => {
        res.setHeader('content-type', registry.contentType)
        res.setHeader('cache-control', 'no-store')
        res.end(req.method === 'HEAD' ? undefined : text)
      },
      (err: unknown) => {
        log.error({ err }, 'could not collect the metrics')
        res.statusCode = 500
        res.end()
      },
    )
  }
}

/** Whether an Authorization header is `Bearer <token>`, compared in constant time. */
export function bearerMatches(header: string | undefined, token: string): boolean {
  const match = /^Bearer\s+(\S+)\s*$/i.exec(header ?? '')
  if (!match) return false
  // equal-length digests: the comparison takes the same time whatever is sent
  const digest = (s: string) => createHash('sha256').update(s).digest()
  return timingSafeEqual(digest(match[1]!), digest(token))
}
