// Where the service may send a webhook (SSRF): anywhere public over HTTPS; loopback and private
// networks only when an operator allows them (APPROVALS_WEBHOOK_ALLOW_PRIVATE_NETWORKS), and
// then also over plain HTTP. The address is checked where it is used: a URL's host when it is
// written as an address, and at send time the address its name resolves to, which is then the
// one connected to (webhook-sender.ts), so a name cannot resolve to a public address for the
// check and to a private one for the connection (DNS rebinding).
import { BlockList, isIP } from 'node:net'

/** What kind of address a webhook would reach. */
export type AddressKind = 'public' | 'private' | 'forbidden'

function blockList(v4: string[], v6: string[]): BlockList {
  const list = new BlockList()
  for (const cidr of v4) {
    const [net, bits] = cidr.split('/')
    list.addSubnet(net!, Number(bits), 'ipv4')
  }
  for (const cidr of v6) {
    const [net, bits] = cidr.split('/')
    list.addSubnet(net!, Number(bits), 'ipv6')
  }
  return list
}

/** Loopback, private, shared (carrier-grade NAT), link-local and unique-local networks: allowed only when the operator says so. */
const PRIVATE = blockList(
  ['127.0.0.0/8', '10.0.0.0/8', '172.16.0.0/12', '192.168.0.0/16', '100.64.0.0/10', '169.254.0.0/16'],
  ['::1/128', 'fc00::/7', 'fe80::/10', 'fec0::/10'],
)

/**
 * Never a webhook's destination: "this network" and unspecified, multicast, broadcast and
 * reserved, documentation and benchmarking ranges, IETF protocol assignments, discard, 6to4 and
 * Teredo relays (whose embedded IPv4 address could be anything).
 */
const FORBIDDEN = blockList(
  ['0.0.0.0/8', '192.0.0.0/24', '192.0.2.0/24', '192.88.99.0/24', '198.18.0.0/15', '198.51.100.0/24', '203.0.113.0/24', '224.0.0.0/4', '240.0.0.0/4'],
  ['::/128', '100::/64', '2001::/23', '2001:db8::/32', '2002::/16', '3fff::/20', '5f00::/16', 'ff00::/8', '64:ff9b:1::/48'],
)

/** The IPv4 address inside an IPv4-mapped (::ffff:a.b.c.d) or NAT64 (64:ff9b::a.b.c.d) IPv6 address. */
function embeddedIPv4(address: string): string | null {
  const lower = address.toLowerCase()
  const prefix = ['::ffff:', '64:ff9b::'].find((p) => lower.startsWith(p))
  if (!prefix) return null
  const rest = lower.slice(prefix.length)
  if (isIP(rest) === 4) return rest
  // written in hex: ::ffff:7f00:1
  const m = /^([0-9a-f]{1,4}):([0-9a-f]{1,4})$/.exec(rest)
  if (!m) return null
  const [hi, lo] = [parseInt(m[1]!, 16), parseInt(m[2]!, 16)]
  return [hi >> 8, hi & 255, lo >> 8, lo & 255].join('.')
}

/** Whether an IP address (v4 or v6, without brackets) is public, on a private network, or never to be reached. */
export function addressKind(address: string): AddressKind {
  const family = isIP(address)
  if (family === 0) return 'forbidden'
  if (family === 6) {
    const v4 = embeddedIPv4(address)
    if (v4) return addressKind(v4)
    if (address.toLowerCase().startsWith('::ffff:0:')) return 'forbidden' // IPv4-translated: not a destination
  }
  const type = family === 4 ? 'ipv4' : 'ipv6'
  if (FORBIDDEN.check(address, type)) return 'forbidden'
  if (PRIVATE.check(address, type)) return 'private'
  return 'public'
}

/** Why a webhook may not go to `address` over `protocol`, or null when it may. */
export function refusedAddress(address: string, protocol: 'http:' | 'https:', allowPrivateNetworks: boolean): string | null {
  const kind = addressKind(address)
  if (kind === 'forbidden') return `${address} is not an address webhooks may be sent to (unspecified, multicast or reserved).`
  if (kind === 'private' && !allowPrivateNetworks) {
    return `${address} is a loopback or private-network address; webhooks go to public addresses unless APPROVALS_WEBHOOK_ALLOW_PRIVATE_NETWORKS=true.`
  }
  if (kind === 'public' && protocol === 'http:') return `${address} is a public address: webhooks to it must use https.`
  return null
}

/** A URL's host without IPv6 brackets. */
export const hostOf = (url: URL) => url.hostname.replace(/^\[(.*)\]$/, '$1')

/** The longest endpoint URL accepted. */
export const MAX_URL_LENGTH = 2000

/**
 * Why a webhook endpoint's URL is refused when it is saved, or null: it must be https, or http
 * only when private networks are allowed (and then its host, if an address, must be on one);
 * no credentials in it; a host written as an address is checked as at send time.
 */
export function refusedEndpointUrl(value: string, allowPrivateNetworks: boolean): string | null {
  if (value.length > MAX_URL_LENGTH) return `The URL must be at most ${MAX_URL_LENGTH} characters.`
  let url: URL
  try {
    url = new URL(value)
  } catch {
    return 'Not a URL: give an absolute https:// URL.'
  }
  if (url.protocol !== 'https:' && url.protocol !== 'http:') return 'The URL must be https:// (http:// only to a private network, when allowed).'
  if (url.protocol === 'http:' && !allowPrivateNetworks) {
    return 'The URL must be https://. Plain http:// is accepted only for loopback and private networks, when APPROVALS_WEBHOOK_ALLOW_PRIVATE_NETWORKS=true.'
  }
  if (url.username || url.password) return 'The URL may not hold a user name or password: the endpoint authenticates deliveries by their signature.'
  if (!url.hostname) return 'The URL has no host.'
  const host = hostOf(url)
  if (isIP(host)) return refusedAddress(host, url.protocol, allowPrivateNetworks)
  return null
}
