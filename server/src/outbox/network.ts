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

/**
 * Loopback, private, shared (carrier-grade NAT), link-local and unique-local networks: allowed only
 * when the operator says so. (IPv6 loopback, ::1, is in 0000::/8: see ipv6Kind.)
 */
const PRIVATE = blockList(
  ['127.0.0.0/8', '10.0.0.0/8', '172.16.0.0/12', '192.168.0.0/16', '100.64.0.0/10', '169.254.0.0/16'],
  ['fc00::/7', 'fe80::/10', 'fec0::/10'],
)

/**
 * Never a webhook's destination: "this network" and unspecified, multicast, broadcast and
 * reserved, documentation and benchmarking ranges, IETF protocol assignments, discard, 6to4 and
 * Teredo relays (whose embedded IPv4 address could be anything), local-use NAT64. (0000::/8 is
 * read before these lists: see ipv6Kind.)
 */
const FORBIDDEN = blockList(
  ['0.0.0.0/8', '192.0.0.0/24', '192.0.2.0/24', '192.88.99.0/24', '198.18.0.0/15', '198.51.100.0/24', '203.0.113.0/24', '224.0.0.0/4', '240.0.0.0/4'],
  ['100::/64', '2001::/23', '2001:db8::/32', '2002::/16', '3fff::/20', '5f00::/16', 'ff00::/8', '64:ff9b:1::/48'],
)

/**
 * The eight 16-bit groups of an IPv6 address, read as the WHATWG URL parser reads it (as
 * inet_pton does: `::127.0.0.1` is ::7f00:1, IPv4-compatible). Not with a library whose reading
 * differs: ipaddr.js, for one, reads `::127.0.0.1` as ::ffff:127.0.0.1, which is another address.
 */
function ipv6Groups(address: string): number[] | null {
  let canonical: string
  try {
    // a zone (fe80::1%eth0) names an interface, not another address
    canonical = new URL(`http://[${address.replace(/%.*$/, '')}]/`).hostname.slice(1, -1)
  } catch {
    return null
  }
  // the serializer writes hex groups only, the longest run of zeros as ::
  const groups = (part: string) => (part === '' ? [] : part.split(':').map((g) => parseInt(g, 16)))
  const [head, tail] = canonical.split('::') as [string, string | undefined]
  const left = groups(head)
  const right = tail === undefined ? [] : groups(tail)
  const all = tail === undefined ? left : [...left, ...new Array<number>(8 - left.length - right.length).fill(0), ...right]
  return all.length === 8 && all.every((g) => g >= 0 && g <= 0xffff) ? all : null
}

const ipv4Of = (hi: number, lo: number) => [hi >> 8, hi & 255, lo >> 8, lo & 255].join('.')

/**
 * The kind of an IPv6 address, from its 128 bits (so that every spelling of one address is one
 * address):
 * - IPv4-mapped (::ffff:a.b.c.d) and NAT64 (64:ff9b::a.b.c.d) reach the IPv4 address they hold,
 *   so they are what that address is;
 * - in 0000::/8, loopback (::1) is private and everything else is never a destination:
 *   unspecified, IPv4-compatible (::/96: ::7f00:1 is 127.0.0.1 to stacks that still honour it),
 *   IPv4-translated (::ffff:0:a.b.c.d) and the rest, reserved;
 * - the others by the lists above (6to4 and Teredo, which embed an IPv4 address of their own
 *   choosing, are never destinations).
 */
function ipv6Kind(address: string): AddressKind {
  const g = ipv6Groups(address)
  if (!g) return 'forbidden'
  const zeros = (from: number, to: number) => g.slice(from, to).every((x) => x === 0)
  if (zeros(0, 5) && g[5] === 0xffff) return addressKind(ipv4Of(g[6]!, g[7]!))
  if (g[0] === 0x64 && g[1] === 0xff9b && zeros(2, 6)) return addressKind(ipv4Of(g[6]!, g[7]!))
  if (g[0]! < 0x100) return zeros(0, 7) && g[7] === 1 ? 'private' : 'forbidden'
  const canonical = g.map((x) => x.toString(16)).join(':')
  if (FORBIDDEN.check(canonical, 'ipv6')) return 'forbidden'
  if (PRIVATE.check(canonical, 'ipv6')) return 'private'
  return 'public'
}

/** Whether an IP address (v4 or v6, without brackets) is public, on a private network, or never to be reached. */
export function addressKind(address: string): AddressKind {
  const family = isIP(address)
  if (family === 0) return 'forbidden'
  if (family === 6) return ipv6Kind(address)
  if (FORBIDDEN.check(address, 'ipv4')) return 'forbidden'
  if (PRIVATE.check(address, 'ipv4')) return 'private'
  return 'public'
}

/** Why a webhook may not go to an address of this kind over `protocol`: the reason, or null when it may. */
function refusal(kind: AddressKind, protocol: 'http:' | 'https:', allowPrivateNetworks: boolean): 'forbidden' | 'private' | 'plain http' | null {
  if (kind === 'forbidden') return 'forbidden'
  if (kind === 'private' && !allowPrivateNetworks) return 'private'
  if (kind === 'public' && protocol === 'http:') return 'plain http'
  return null
}

/** Why a webhook may not go to `address` over `protocol`, or null when it may. The message names the address (one the admin wrote). */
export function refusedAddress(address: string, protocol: 'http:' | 'https:', allowPrivateNetworks: boolean): string | null {
  switch (refusal(addressKind(address), protocol, allowPrivateNetworks)) {
    case 'forbidden':
      return `${address} is not an address webhooks may be sent to (unspecified, multicast or reserved).`
    case 'private':
      return `${address} is a loopback or private-network address; webhooks go to public addresses unless APPROVALS_WEBHOOK_ALLOW_PRIVATE_NETWORKS=true.`
    case 'plain http':
      return `${address} is a public address: webhooks to it must use https.`
    default:
      return null
  }
}

/**
 * Why a webhook may not go to the address `host` resolved to, or null when it may. The message
 * says what kind of address it is, never which: a delivery's lastError must not map the internal
 * network for whoever may read it.
 */
export function refusedResolvedAddress(host: string, address: string, protocol: 'http:' | 'https:', allowPrivateNetworks: boolean): string | null {
  switch (refusal(addressKind(address), protocol, allowPrivateNetworks)) {
    case 'forbidden':
      return `${host} resolves to an address webhooks may not be sent to (unspecified, multicast or reserved).`
    case 'private':
      return `${host} resolves to a private address; webhooks go to public addresses unless APPROVALS_WEBHOOK_ALLOW_PRIVATE_NETWORKS=true.`
    case 'plain http':
      return `${host} resolves to a public address: webhooks to it must use https.`
    default:
      return null
  }
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
