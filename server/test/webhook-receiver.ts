// A real webhook receiver for the tests: an HTTP server on loopback that verifies each delivery
// with the standardwebhooks library, as an integrator would, and answers as the test says.
import { EventEmitter } from 'node:events'
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http'
import type { AddressInfo } from 'node:net'
import { Webhook } from 'standardwebhooks'

export interface Received {
  headers: Record<string, string>
  body: string
  /** The payload as `Webhook.verify` returned it; null when the signature did not verify. */
  payload: { type: string; timestamp: string; data: any } | null
  /** Why verification failed, if it did. */
  verifyError: string | null
}

export interface Receiver {
  url: string
  port: number
  received: Received[]
  /** Verified payloads only. */
  payloads(): NonNullable<Received['payload']>[]
  /** The secret deliveries are checked with (known once the endpoint is created). */
  secret: string | undefined
  /** Resolves once `count` requests arrived (rejects after `timeoutMs`). */
  waitFor(count: number, timeoutMs?: number): Promise<Received[]>
  close(): Promise<void>
}

/**
 * `answer` says how to answer the n-th request (from 1): a status code (the default 204), or
 * 'hang' to never answer; it may also write the response itself and return nothing.
 */
export async function startReceiver(
  options: { port?: number; answer?: (n: number, req: IncomingMessage, res: ServerResponse) => number | 'hang' | void } = {},
): Promise<Receiver> {
  const received: Received[] = []
  const arrivals = new EventEmitter()
  arrivals.setMaxListeners(0)
  const hanging = new Set<ServerResponse>()
  const receiver: Receiver = {
    url: '',
    port: 0,
    received,
    secret: undefined,
    payloads: () => received.flatMap((r) => (r.payload ? [r.payload] : [])),
    waitFor(count, timeoutMs = 5000) {
      return new Promise((resolve, reject) => {
        const timer = setTimeout(() => {
          arrivals.off('request', check)
          reject(new Error(`expected ${count} webhook requests within ${timeoutMs} ms, got ${received.length}`))
        }, timeoutMs)
        const check = () => {
          if (received.length < count) return
          clearTimeout(timer)
          arrivals.off('request', check)
          resolve(received)
        }
        arrivals.on('request', check)
        check()
      })
    },
    close: () =>
      new Promise((resolve) => {
        for (const res of hanging) res.destroy()
        server.closeAllConnections()
        server.close(() => resolve())
      }),
  }
  const server = createServer((req, res) => {
    const chunks: Buffer[] = []
    req.on('data', (c: Buffer) => chunks.push(c))
    req.on('end', () => {
      const body = Buffer.concat(chunks).toString('utf8')
      const headers = Object.fromEntries(Object.entries(req.headers).map(([k, v]) => [k, String(v)]))
      let payload: Received['payload'] = null
      let verifyError: string | null = null
      try {
        if (!receiver.secret) throw new Error('no secret to verify with')
        payload = new Webhook(receiver.secret).verify(body, headers) as Received['payload']
      } catch (err) {
        verifyError = (err as Error).message
      }
      received.push({ headers, body, payload, verifyError })
      const answer = options.answer ? options.answer(received.length, req, res) : 204
      if (answer === 'hang') hanging.add(res)
      else if (typeof answer === 'number') res.writeHead(answer).end()
      arrivals.emit('request')
    })
  })
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject)
    server.listen(options.port ?? 0, '127.0.0.1', () => resolve())
  })
  receiver.port = (server.address() as AddressInfo).port
  receiver.url = `http://127.0.0.1:${receiver.port}/hooks`
  return receiver
}
