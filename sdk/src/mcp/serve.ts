// Serving an MCP server to its clients: over stdio (the process's stdin and stdout, one client),
// or over Streamable HTTP (one server per session, made by a factory), for both MCP commands.
import { randomUUID } from 'node:crypto'
import { createServer as createHttpServer, type IncomingMessage, type ServerResponse } from 'node:http'
import type { AddressInfo } from 'node:net'
import type { Server } from '@modelcontextprotocol/sdk/server/index.js'
import type { McpServer } from '@modelcontextprotocol/sdk/server/mcp.js'
import { StdioServerTransport } from '@modelcontextprotocol/sdk/server/stdio.js'
import { StreamableHTTPServerTransport } from '@modelcontextprotocol/sdk/server/streamableHttp.js'
import { isInitializeRequest } from '@modelcontextprotocol/sdk/types.js'
import type { Log } from './log.js'

type AnyServer = Server | McpServer

/**
 * Serves `server` over this process's stdin and stdout. Resolves once the client is gone: stdin
 * ended (the client closed it or exited) and the server's connection closed, which aborts the
 * requests still running.
 */
export async function serveStdio(server: AnyServer): Promise<void> {
  const transport = new StdioServerTransport()
  const closed = new Promise<void>((resolve) => {
    const previous = transport.onclose
    transport.onclose = () => {
      previous?.()
      resolve()
    }
  })
  await server.connect(transport)
  // the SDK's stdio transport does not watch for the end of its input: a client that exits
  // would leave the server waiting on requests nobody will read
  const end = () => void transport.close()
  process.stdin.once('end', end)
  process.stdin.once('close', end)
  await closed
}

/** Options of {@link serveHttp}. */
export interface HttpOptions {
  port: number
  /** The interface to listen on. Default 127.0.0.1: the endpoint speaks with the agent's token to whoever reaches it. */
  host?: string
  log: Log
}

/** A Streamable HTTP endpoint being served. */
export interface HttpEndpoint {
  /** `http://host:port/mcp`. */
  url: string
  /** Stops listening and closes every session (their running requests are aborted). */
  close(): Promise<void>
}

const MAX_BODY_BYTES = 4 * 1024 * 1024

function readJson(req: IncomingMessage): Promise<unknown> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = []
    let size = 0
    req.on('data', (chunk: Buffer) => {
      size += chunk.length
      if (size > MAX_BODY_BYTES) {
        reject(new Error('too large'))
        req.destroy()
      } else chunks.push(chunk)
    })
    req.on('end', () => {
      try {
        resolve(JSON.parse(Buffer.concat(chunks).toString('utf8')))
      } catch (error) {
        reject(error)
      }
    })
    req.on('error', reject)
  })
}

function answer(res: ServerResponse, status: number, message: string) {
  res.writeHead(status, { 'content-type': 'application/json' }).end(JSON.stringify({ jsonrpc: '2.0', error: { code: -32000, message }, id: null }))
}

const LOOPBACK = new Set(['127.0.0.1', 'localhost', '::1'])

/**
 * Serves MCP over Streamable HTTP at `/mcp`: an `initialize` starts a session with a server of
 * its own from `createServer`; later requests name it (`mcp-session-id`); DELETE or closing
 * ends it. On a loopback address, requests whose Host is another name are refused (DNS
 * rebinding: a web page must not reach the endpoint through a name of its own).
 */
export async function serveHttp(createServer: () => AnyServer, options: HttpOptions): Promise<HttpEndpoint> {
  const host = options.host ?? '127.0.0.1'
  const sessions = new Map<string, StreamableHTTPServerTransport>()
  let allowedHosts: string[] | undefined

  const http = createHttpServer((req, res) => {
    void (async () => {
      const path = new URL(req.url ?? '/', 'http://gateway.invalid').pathname
      if (path !== '/mcp') return answer(res, 404, 'Not found: the MCP endpoint is /mcp.')
      const sessionId = req.headers['mcp-session-id']
      const existing = typeof sessionId === 'string' ? sessions.get(sessionId) : undefined
      if (req.method !== 'POST') {
        if (!existing) return answer(res, sessionId ? 404 : 400, sessionId ? 'Unknown session.' : 'No session: initialize first.')
        return existing.handleRequest(req, res)
      }
      let body: unknown
      try {
        body = await readJson(req)
      } catch {
        return answer(res, 400, 'The body is not JSON (or larger than 4 MiB).')
      }
      if (existing) return existing.handleRequest(req, res, body)
      if (sessionId) return answer(res, 404, 'Unknown session.')
      if (!isInitializeRequest(body)) return answer(res, 400, 'No session: initialize first.')
      const transport: StreamableHTTPServerTransport = new StreamableHTTPServerTransport({
        sessionIdGenerator: () => randomUUID(),
        onsessioninitialized: (id) => void sessions.set(id, transport),
        enableDnsRebindingProtection: allowedHosts !== undefined,
        allowedHosts,
      })
      transport.onclose = () => {
        if (transport.sessionId) sessions.delete(transport.sessionId)
      }
      await createServer().connect(transport)
      await transport.handleRequest(req, res, body)
    })().catch((error: unknown) => {
      options.log.warn(`HTTP ${req.method} ${req.url}: ${(error as Error).message}`)
      if (!res.headersSent) answer(res, 500, 'Internal error.')
    })
  })
  await new Promise<void>((resolve, reject) => {
    http.once('error', reject)
    http.listen(options.port, host, () => resolve())
  })
  const { port } = http.address() as AddressInfo
  if (LOOPBACK.has(host)) allowedHosts = [`127.0.0.1:${port}`, `localhost:${port}`, `[::1]:${port}`]
  else options.log.warn(`listening on ${host}, not loopback: whoever reaches this port acts with the agent's token; put it behind your own authentication`)
  const url = `http://${host.includes(':') ? `[${host}]` : host}:${port}/mcp`
  return {
    url,
    async close() {
      await Promise.all([...sessions.values()].map((t) => t.close().catch(() => {})))
      http.closeAllConnections()
      await new Promise<void>((resolve) => http.close(() => resolve()))
    },
  }
}
