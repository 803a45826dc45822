import type { ServerResponse } from 'node:http'

/**
 * The Content-Security-Policy of the inbox and of the API's answers. The inbox (Vite's build of
 * client/) has no inline script or style and sets styles only through the DOM, so 'self' is
 * enough for both. 'self' in connect-src also matches ws:/wss: to the same host and port
 * (CSP Level 3, in every current browser), which is where the inbox opens its live connection.
 */
const STRICT_CSP = [
  "default-src 'self'",
  "script-src 'self'",
  "style-src 'self'",
  "connect-src 'self'",
  "img-src 'self' data:",
  "font-src 'self'",
  "object-src 'none'",
  "base-uri 'none'",
  "form-action 'self'",
  "frame-ancestors 'none'",
].join('; ')

/**
 * GraphiQL, served by yoga at /graphql outside production only: an inline bootstrap script, its
 * bundle, styles and Monaco workers from unpkg (the workers fetched, then run from blob: URLs),
 * and a favicon from GitHub. Everything else stays as strict as the inbox's policy.
 */
const GRAPHIQL_CSP = [
  "default-src 'self'",
  "script-src 'self' 'unsafe-inline' 'unsafe-eval' https://unpkg.com blob:",
  "worker-src 'self' blob:",
  "style-src 'self' 'unsafe-inline' https://unpkg.com",
  "connect-src 'self' https://unpkg.com",
  "img-src 'self' data: https://raw.githubusercontent.com",
  "font-src 'self' data: https://unpkg.com",
  "object-src 'none'",
  "base-uri 'none'",
  "form-action 'self'",
  "frame-ancestors 'none'",
].join('; ')

/**
 * Sets the security headers on a response before anything writes it: what yoga, sirv or a 404
 * send later keeps them (Node merges headers set here with those given to writeHead).
 * `graphiql` selects the looser policy of the GraphiQL page.
 */
export function setSecurityHeaders(res: ServerResponse, page: 'strict' | 'graphiql' = 'strict'): void {
  res.setHeader('content-security-policy', page === 'graphiql' ? GRAPHIQL_CSP : STRICT_CSP)
  res.setHeader('x-content-type-options', 'nosniff')
  res.setHeader('referrer-policy', 'no-referrer')
  res.setHeader('x-frame-options', 'DENY')
}

/** Whether yoga answers this request with its GraphiQL page (as yoga decides: a GET that accepts HTML). */
export function isGraphiQLRequest(method: string | undefined, pathname: string, accept: string | undefined): boolean {
  return method === 'GET' && pathname === '/graphql' && (accept ?? '').includes('text/html')
}
