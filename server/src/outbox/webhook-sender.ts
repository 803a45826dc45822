// Sends one webhook request, signed as the Standard Webhooks specification says, to the address
// the SSRF check allowed. Node's http client with our own `lookup`: the name is resolved once,
// checked (network.ts), and the connection goes to that checked address; TLS still verifies the
// certificate against the URL's name. Redirects are not followed (a 3xx is a failure), at most
// MAX_RESPONSE_BYTES of the answer are read, and the whole exchange has one time limit.
import { lookup as dnsLookup } from 'node:dns/promises'
import { request as httpRequest, type IncomingMessage } from 'node:http'
import { request as httpsRequest } from 'node:https'
import { isIP, type LookupFunction } from 'node:net'
import { Webhook } from 'standardwebhooks'
import { hostOf, refusedAddress, refusedResolvedAddress } from './network.js'

/** How long one attempt may take, connection to last byte read (the issue's 10 s). */
export const DEFAULT_WEBHOOK_TIMEOUT_MS = 10_000

/** The most of a response body that is read; the rest is dropped with the connection. */
export const MAX_RESPONSE_BYTES = 64 * 1024

/** How much of a failing answer's body is kept as its error, for the admin screen. */
const ERROR_EXCERPT_CHARS = 300

export interface WebhookMessage {
  /** The webhook-id header: the same on every attempt of one delivery, so receivers can drop repeats. */
  id: string
  /** The endpoint's signing secret, whsec_<base64>. */
  secret: string
  url: string
  /** The JSON body, exactly as signed. */
  body: string
  /** The webhook-timestamp header: when it is sent, as the receiver's clock should see it. */
  sentAt: Date
}

export interface SendOptions {
  timeoutMs: number
  allowPrivateNetworks: boolean
}

/** What came of one attempt: ok (a 2xx answer), the status code when there was an answer, and what went wrong otherwise. */
export interface AttemptOutcome {
  ok: boolean
  statusCode: number | null
  error: string | null
}

/** The Standard Webhooks headers of a message: webhook-id, webhook-timestamp, webhook-signature (v1, HMAC-SHA256). */
export function signedHeaders(message: WebhookMessage): Record<string, string> {
  return {
    'webhook-id': message.id,
    'webhook-timestamp': String(Math.floor(message.sentAt.getTime() / 1000)),
    'webhook-signature': new Webhook(message.secret).sign(message.id, message.sentAt, message.body),
  }
}

/** The address to connect to for `url`, checked, or why there is none. */
async function checkedAddress(url: URL, options: SendOptions): Promise<{ address: string; family: number } | { refused: string }> {
  const protocol = url.protocol as 'http:' | 'https:'
  const host = hostOf(url)
  if (isIP(host)) {
    const refused = refusedAddress(host, protocol, options.allowPrivateNetworks)
    return refused ? { refused } : { address: host, family: isIP(host) }
  }
  let addresses: { address: string; family: number }[]
  try {
    addresses = await dnsLookup(host, { all: true, verbatim: true })
  } catch (err) {
    return { refused: `Could not resolve ${host}: ${(err as NodeJS.ErrnoException).code ?? (err as Error).message}` }
  }
  // any allowed address will do: it is the one connected to, whatever else the name resolves to
  const allowed = addresses.find((a) => refusedAddress(a.address, protocol, options.allowPrivateNetworks) === null)
  if (allowed) return allowed
  if (addresses.length === 0) return { refused: `${host} resolves to no address.` }
  // what kind of address, never which: the internal network is nobody's business here
  return { refused: refusedResolvedAddress(host, addresses[0]!.address, protocol, options.allowPrivateNetworks)! }
}

/** Reads at most MAX_RESPONSE_BYTES of the body. */
function readLimited(res: IncomingMessage): Promise<string> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = []
    let size = 0
    res.on('data', (chunk: Buffer) => {
      if (size >= MAX_RESPONSE_BYTES) return
      chunks.push(chunk.subarray(0, MAX_RESPONSE_BYTES - size))
      size += chunk.length
      if (size >= MAX_RESPONSE_BYTES) {
        // enough: drop the rest with the connection rather than download it
        resolve(Buffer.concat(chunks).toString('utf8'))
        res.destroy()
      }
    })
    res.once('end', () => resolve(Buffer.concat(chunks).toString('utf8')))
    res.once('error', reject)
    res.once('close', () => resolve(Buffer.concat(chunks).toString('utf8')))
  })
}

/**
 * Sends `message` once and says what came of it. Never throws: every failure (refused address,
 * DNS, connection, TLS, time limit, a non-2xx answer) is an outcome the dispatcher records.
 */
export async function sendWebhook(message: WebhookMessage, options: SendOptions): Promise<AttemptOutcome> {
  let url: URL
  try {
    url = new URL(message.url)
  } catch {
    return { ok: false, statusCode: null, error: 'Not sent: the endpoint URL is not a URL.' }
  }
  const target = await checkedAddress(url, options)
  if ('refused' in target) return { ok: false, statusCode: null, error: `Not sent: ${target.refused}` }
  // the connection goes to the checked address and nowhere else
  const pinned: LookupFunction = (_hostname, lookupOptions, callback) => {
    if ((lookupOptions as { all?: boolean }).all) (callback as (err: null, addresses: { address: string; family: number }[]) => void)(null, [target])
    else callback(null, target.address, target.family)
  }
  const body = Buffer.from(message.body)
  const headers = {
    ...signedHeaders(message),
    'content-type': 'application/json',
    'content-length': String(body.length),
    'user-agent': 'Approvals-Webhooks/1',
  }
  return new Promise<AttemptOutcome>((resolve) => {
    let settled = false
    let timer: NodeJS.Timeout | undefined
    const done = (outcome: AttemptOutcome) => {
      if (settled) return
      settled = true
      clearTimeout(timer)
      resolve(outcome)
    }
    const send = url.protocol === 'https:' ? httpsRequest : httpRequest
    let req: ReturnType<typeof send>
    try {
      req = send(url, { method: 'POST', headers, lookup: pinned, agent: false }, (res) => {
        const statusCode = res.statusCode ?? 0
        readLimited(res)
          .catch(() => '')
          .then((text) => {
            if (statusCode >= 200 && statusCode < 300) return done({ ok: true, statusCode, error: null })
            const excerpt = text.trim().slice(0, ERROR_EXCERPT_CHARS)
            const why =
              statusCode >= 300 && statusCode < 400
                ? `HTTP ${statusCode}: redirects are not followed (Location: ${String(res.headers.location ?? '').slice(0, 200)})`
                : `HTTP ${statusCode}${excerpt ? `: ${excerpt}` : ''}`
            done({ ok: false, statusCode, error: why })
          })
      })
    } catch (err) {
      return done({ ok: false, statusCode: null, error: `Not sent: ${(err as Error).message}` })
    }
    timer = setTimeout(() => {
      done({ ok: false, statusCode: null, error: `No answer within ${options.timeoutMs / 1000} s.` })
      req.destroy()
    }, options.timeoutMs)
    req.once('error', (err: NodeJS.ErrnoException) => done({ ok: false, statusCode: null, error: err.code ? `${err.code}: ${err.message}` : err.message }))
    req.end(body)
  })
}
