// The two channels to the API: GraphQL over HTTP (fetch, JSON POST) for queries and mutations,
// and one graphql-ws client, opened on first use, for subscriptions. Both turn the API's errors
// into ApprovalsError.
import { createClient, type Client } from 'graphql-ws'
import WebSocket from 'ws'
import { ApprovalsError, type GraphQLErrorLike } from './errors.js'

/** Options of {@link createTransport}; see `ApprovalsOptions`. */
export interface TransportOptions {
  url: string
  token: string | undefined
  wsUrl?: string
  fetch?: typeof globalThis.fetch
  webSocketImpl?: unknown
  retryAttempts?: number
  rateLimitRetries?: number
}

/** Receives a subscription's results; see {@link Transport.subscribe}. */
export interface SubscriptionSink<T> {
  next(data: T): void
  error(error: ApprovalsError): void
  complete(): void
}

/** @internal What the SDK's parts use to talk to the API. */
export interface Transport {
  request<T>(query: string, variables?: Record<string, unknown>, signal?: AbortSignal): Promise<T>
  subscribe<T>(query: string, variables: Record<string, unknown>, sink: SubscriptionSink<T>): () => void
  /** Calls `listener` each time the WebSocket (re)connects; returns a function that stops it. */
  onConnected(listener: () => void): () => void
  /** Aborted by close(): long-running work listens to it. */
  readonly closed: AbortSignal
  close(): Promise<void>
}

/** `http(s)://host/graphql` -> `ws(s)://host/graphql`. */
export function deriveWsUrl(url: string): string {
  const u = new URL(url)
  u.protocol = u.protocol === 'https:' ? 'wss:' : 'ws:'
  return u.toString()
}

// graphql-ws retries 4403 (a revoked token, a disabled agent) unless told not to; nor 4401
const FATAL_CLOSE_CODES = new Set([4400, 4401, 4403, 4406, 4409, 4429, 4500])

const isCloseEvent = (e: unknown): e is { code: number; reason: string } =>
  typeof e === 'object' && e !== null && typeof (e as { code?: unknown }).code === 'number' && 'reason' in e

/** A subscription's error (close event, Error, or GraphQL errors) as an ApprovalsError. */
export function toApprovalsError(error: unknown): ApprovalsError {
  if (error instanceof ApprovalsError) return error
  if (Array.isArray(error)) return ApprovalsError.fromGraphQL(error as GraphQLErrorLike[])
  if (isCloseEvent(error)) {
    const code = error.code === 4401 ? 'UNAUTHENTICATED' : error.code === 4403 ? 'FORBIDDEN' : error.code === 4429 ? 'RATE_LIMITED' : 'NETWORK'
    return new ApprovalsError(`The WebSocket closed (${error.code}${error.reason ? `: ${error.reason}` : ''}).`, { code, cause: error })
  }
  const message = error instanceof Error ? error.message : String(error)
  return new ApprovalsError(`The WebSocket failed: ${message}`, { code: 'NETWORK', cause: error })
}

/** Whether an error is worth trying again (the connection, not the request, was at fault). */
export function isTransient(error: ApprovalsError): boolean {
  return error.code === 'NETWORK' || error.code === 'RATE_LIMITED'
}

const sleep = (ms: number, signal?: AbortSignal) =>
  new Promise<void>((resolve) => {
    const timer = setTimeout(done, ms)
    function done() {
      clearTimeout(timer)
      signal?.removeEventListener('abort', done)
      resolve()
    }
    signal?.addEventListener('abort', done, { once: true })
  })

/** Randomised exponential backoff, 1 s doubling up to 30 s. */
export function backoffMs(retries: number): number {
  return Math.min(30_000, 1000 * 2 ** Math.min(retries, 5)) + Math.floor(Math.random() * 1000)
}

/** @internal */
export function createTransport(options: TransportOptions): Transport {
  const doFetch = options.fetch ?? globalThis.fetch
  const authorization = options.token ? `Bearer ${options.token}` : undefined
  const closing = new AbortController()
  const connected = new Set<() => void>()
  let ws: Client | undefined

  const wsClient = (): Client => {
    if (closing.signal.aborted) throw new ApprovalsError('This approvals client is closed.', { code: 'CLOSED' })
    ws ??= createClient({
      url: options.wsUrl ?? deriveWsUrl(options.url),
      webSocketImpl: options.webSocketImpl ?? WebSocket,
      lazy: true,
      connectionParams: authorization ? { authorization } : {},
      retryAttempts: options.retryAttempts ?? Number.POSITIVE_INFINITY,
      retryWait: (retries) => sleep(backoffMs(retries), closing.signal),
      shouldRetry: (e) => !(isCloseEvent(e) && FATAL_CLOSE_CODES.has(e.code)),
      on: {
        connected: () => {
          for (const listener of [...connected]) {
            try {
              listener()
            } catch {
              // a listener's failure is its own business
            }
          }
        },
      },
    })
    return ws
  }

  async function request<T>(query: string, variables: Record<string, unknown> = {}, signal?: AbortSignal): Promise<T> {
    for (let attempt = 0; ; attempt++) {
      if (closing.signal.aborted) throw new ApprovalsError('This approvals client is closed.', { code: 'CLOSED' })
      const abort = signal ? AbortSignal.any([signal, closing.signal]) : closing.signal
      let res: Response
      try {
        res = await doFetch(options.url, {
          method: 'POST',
          headers: {
            'content-type': 'application/json',
            accept: 'application/graphql-response+json, application/json',
            ...(authorization ? { authorization } : {}),
          },
          body: JSON.stringify({ query, variables }),
          signal: abort,
        })
      } catch (error) {
        if (signal?.aborted) throw error
        if (closing.signal.aborted) throw new ApprovalsError('This approvals client is closed.', { code: 'CLOSED', cause: error })
        throw new ApprovalsError(`Could not reach the approvals API: ${(error as Error).message}`, { code: 'NETWORK', cause: error })
      }
      let body: { data?: T | null; errors?: GraphQLErrorLike[] }
      try {
        body = (await res.json()) as typeof body
      } catch (error) {
        throw new ApprovalsError(`The approvals API answered HTTP ${res.status} without GraphQL JSON.`, {
          code: res.status === 429 ? 'RATE_LIMITED' : res.status >= 500 ? 'NETWORK' : 'INVALID_RESPONSE',
          cause: error,
        })
      }
      if (body.errors?.length) {
        const retryAfter = Number(res.headers.get('retry-after'))
        const error = ApprovalsError.fromGraphQL(body.errors, { retryAfterSeconds: Number.isFinite(retryAfter) && retryAfter > 0 ? retryAfter : undefined })
        // a refused call changed nothing, so trying it again after the wait is safe
        if (error.code === 'RATE_LIMITED' && attempt < (options.rateLimitRetries ?? 3) && (error.retryAfterSeconds ?? 1) <= 60) {
          await sleep((error.retryAfterSeconds ?? 1) * 1000, abort)
          continue
        }
        throw error
      }
      if (body.data == null) throw new ApprovalsError('The approvals API answered without data.', { code: 'INVALID_RESPONSE' })
      return body.data
    }
  }

  function subscribe<T>(query: string, variables: Record<string, unknown>, sink: SubscriptionSink<T>): () => void {
    let client: Client
    try {
      client = wsClient()
    } catch (error) {
      queueMicrotask(() => sink.error(toApprovalsError(error)))
      return () => {}
    }
    let finished = false
    const dispose = client.subscribe<T>(
      { query, variables },
      {
        next: (result) => {
          if (finished) return
          if (result.errors?.length) {
            finished = true
            dispose()
            sink.error(ApprovalsError.fromGraphQL(result.errors as GraphQLErrorLike[]))
          } else if (result.data != null) sink.next(result.data as T)
        },
        error: (error) => {
          if (finished) return
          finished = true
          sink.error(closing.signal.aborted ? new ApprovalsError('This approvals client is closed.', { code: 'CLOSED' }) : toApprovalsError(error))
        },
        complete: () => {
          if (finished) return
          finished = true
          sink.complete()
        },
      },
    )
    return () => {
      finished = true
      dispose()
    }
  }

  return {
    request,
    subscribe,
    onConnected(listener) {
      connected.add(listener)
      return () => connected.delete(listener)
    },
    closed: closing.signal,
    async close() {
      if (closing.signal.aborted) return
      closing.abort(new ApprovalsError('This approvals client is closed.', { code: 'CLOSED' }))
      await ws?.dispose()
    },
  }
}

const transports = new WeakMap<object, Transport>()

/** Records the connection of a client made by createApprovals(), for the adapters. @internal */
export function registerTransport(client: object, transport: Transport): void {
  transports.set(client, transport)
}

/** The connection of a client made by createApprovals(); BAD_USER_INPUT for anything else. @internal */
export function transportOf(client: object): Transport {
  const transport = transports.get(client)
  if (!transport) throw new ApprovalsError("Not a client made by createApprovals() of '@approvals/sdk'.", { code: 'BAD_USER_INPUT' })
  return transport
}
