/**
 * Whether a WebSocket upgrade may proceed, judged by its Origin header. Browsers send Origin on
 * every WebSocket handshake and let any page open one to any host, so without this check a page
 * on another site could use a reviewer's browser to reach the API (cross-site WebSocket
 * hijacking; tokens travel in connectionParams today, but the check must not depend on that).
 *
 * - no Origin: not a browser (an agent, a script): allowed, the token decides;
 * - the page's origin is the server itself (Origin's host equals the Host header): allowed;
 * - an origin listed in `allowed` (APPROVALS_ALLOWED_ORIGINS): allowed;
 * - anything else, including the opaque origin "null": refused.
 *
 * Behind a proxy that rewrites Host, list the public origin of the inbox in `allowed`.
 */
export function isOriginAllowed(origin: string | undefined, host: string | undefined, allowed: ReadonlySet<string>): boolean {
  if (origin === undefined) return true
  let url: URL
  try {
    url = new URL(origin)
  } catch {
    return false
  }
  if (url.protocol !== 'http:' && url.protocol !== 'https:') return false
  if (allowed.has(url.origin)) return true
  return host !== undefined && url.host === normalizeHost(url.protocol, host)
}

/** The Host header as URL.host spells it (lower case, default port dropped), or undefined if malformed. */
function normalizeHost(protocol: string, host: string): string | undefined {
  try {
    return new URL(`${protocol}//${host}`).host
  } catch {
    return undefined
  }
}

/** The origins of APPROVALS_ALLOWED_ORIGINS as `URL.origin` spells them, for exact comparison. */
export function originSet(origins: readonly string[] = []): ReadonlySet<string> {
  return new Set(origins.map((o) => new URL(o).origin))
}
