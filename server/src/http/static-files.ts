import type { IncomingMessage, ServerResponse } from 'node:http'
import sirv from 'sirv'

/**
 * Vite's hashed output (`/assets/index-B1x2y3.js`): its name changes with its content, so a
 * browser may keep it for a year without asking again. Anything without an extension under
 * /assets/ is a route of the app, answered with index.html, and is not matched.
 */
const HASHED_ASSET = /^\/assets\/[^/]+\.[A-Za-z0-9]+$/
/** With or without the trailing slash sirv ignores when it looks a file up. */
const SOURCE_MAP = /\.map\/?$/i

/**
 * Serves the built inbox (client/dist) at /: the brotli or gzip copy made at build time
 * (scripts/compress-client.mjs) when the browser accepts it, else the file; hashed assets cached
 * for good (`immutable`); index.html, for its own path and every route of the app (the SPA
 * fallback), revalidated on each load (`no-cache`, with its ETag), so that a new build reaches
 * browsers at once. Source maps are built "hidden" (no sourceMappingURL in the bundles) for
 * whoever operates the server, and are never served: they would publish the inbox's sources.
 */
export function createInboxHandler(clientDir: string): (req: IncomingMessage, res: ServerResponse) => void {
  const serve = sirv(clientDir, { single: true, etag: true, brotli: true, gzip: true })
  return (req, res) => {
    const pathname = requestPath(req.url ?? '/')
    if (SOURCE_MAP.test(pathname)) return notFound(res)
    // set before sirv so that a 304 carries them too (sirv answers 304 before its own headers)
    res.setHeader('cache-control', HASHED_ASSET.test(pathname) ? 'public, max-age=31536000, immutable' : 'no-cache')
    res.setHeader('vary', 'Accept-Encoding')
    serve(req, res, () => {
      res.removeHeader('cache-control')
      res.removeHeader('vary')
      notFound(res)
    })
  }
}

/** The path as sirv reads it: before any `#` or `?`, percent-decoded as decodeURI does. */
function requestPath(url: string): string {
  let path = url
  for (const mark of ['#', '?']) {
    const at = path.indexOf(mark, 1)
    if (at !== -1) path = path.slice(0, at)
  }
  try {
    return path.includes('%') ? decodeURI(path) : path
  } catch {
    return path
  }
}

function notFound(res: ServerResponse): void {
  res.statusCode = 404
  res.setHeader('content-type', 'text/plain; charset=utf-8')
  res.end('Not found')
}
