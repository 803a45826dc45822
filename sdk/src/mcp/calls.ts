// What a tool call that may wait for a human needs: its idempotency key, and progress
// notifications while it waits, sent only when the client asked for them (a progressToken in the
// call's _meta), at once and then every so often, so that a client that resets its timeout on
// progress (the SDK's `resetTimeoutOnProgress`) keeps waiting.
import { createHash } from 'node:crypto'
import type { RequestHandlerExtra } from '@modelcontextprotocol/sdk/shared/protocol.js'
import type { ServerNotification, ServerRequest } from '@modelcontextprotocol/sdk/types.js'

export type CallExtra = RequestHandlerExtra<ServerRequest, ServerNotification>

/** The progress of one request handler. */
export interface Progress {
  /** Sends one notification (nothing when the client asked for none). */
  send(message: string): void
  /** Sends `message(elapsed ms)` now and every interval until {@link Progress.stop}. */
  every(message: (elapsedMs: number) => string): void
  /** Stops the repeated notification. */
  stop(): void
}

/** A default interval: well under the 60 s request timeout of the official SDKs' clients. */
export const DEFAULT_PROGRESS_INTERVAL_MS = 15_000

export function progressOf(extra: CallExtra, intervalMs = DEFAULT_PROGRESS_INTERVAL_MS): Progress {
  const token = extra._meta?.progressToken
  let count = 0
  let timer: NodeJS.Timeout | undefined
  const send = (message: string) => {
    if (token === undefined || extra.signal.aborted) return
    // progress must increase; the client's request is the only thing that knows the total
    void extra.sendNotification({ method: 'notifications/progress', params: { progressToken: token, progress: ++count, message } }).catch(() => {})
  }
  return {
    send,
    every(message) {
      if (token === undefined) return
      clearInterval(timer)
      const since = Date.now()
      send(message(0))
      timer = setInterval(() => send(message(Date.now() - since)), intervalMs)
      timer.unref?.()
    },
    stop() {
      clearInterval(timer)
      timer = undefined
    },
  }
}

/** "3 min", "45 s". */
export function duration(ms: number): string {
  const seconds = Math.round(ms / 1000)
  return seconds < 120 ? `${seconds} s` : `${Math.round(seconds / 60)} min`
}

/**
 * The idempotency key of one tool call: its JSON-RPC id, scoped to the client connection (ids
 * restart with each), so that the call's own retries stay one request and no other call meets it.
 */
export function callIdempotencyKey(session: string, requestId: string | number): string {
  const key = `mcp:${session}:${typeof requestId}:${requestId}`
  return key.length <= 200 ? key : `mcp:${createHash('sha256').update(key).digest('hex')}`
}
