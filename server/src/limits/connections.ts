import { EventEmitter } from 'node:events'
import type { Viewer } from '../auth/viewer.js'
import { ApiError } from '../errors.js'

/** Close code of a connection past APPROVALS_MAX_CONNECTIONS_PER_TOKEN (graphql-ws has none for it). */
export const TOO_MANY_CONNECTIONS = 4429
/** Close code of a connection whose token was revoked or whose agent was disabled (graphql-ws's Forbidden). */
export const ACCESS_REVOKED = 4403

/** The part of a `ws` WebSocket the registry uses. */
export interface RegisteredSocket {
  readonly readyState: number
  close(code: number, reason: string): void
  once(event: 'close', listener: () => void): unknown
}

interface Connection {
  tokenId: string
  principalId: string
  /** The ids of the operations running on it. */
  operations: Set<string>
}

export interface ConnectionLimits {
  /** Open connections one token may hold. */
  maxConnectionsPerToken: number
  /** Operations one principal may run at once over all its connections (on this instance). */
  maxOperationsPerPrincipal: number
  /** Operations one connection may run at once. */
  maxOperationsPerConnection: number
}

const OPEN = 1

/**
 * The authenticated WebSocket connections of one instance, by token and by principal, with the
 * operations each runs: it holds each token and principal to its limits, and finds the sockets to
 * close when access is revoked. A connection leaves it when its socket closes, however it closes,
 * taking its operations with it, so that nothing a misbehaving client abandons stays counted.
 *
 * Emits `change` after every change of its counts (tests wait on it instead of sleeping).
 */
export class ConnectionRegistry extends EventEmitter<{ change: [] }> {
  private readonly connections = new Map<RegisteredSocket, Connection>()
  private readonly byToken = new Map<string, Set<RegisteredSocket>>()
  private readonly byPrincipal = new Map<string, Set<RegisteredSocket>>()
  private readonly operationsByPrincipal = new Map<string, number>()

  constructor(private readonly limits: ConnectionLimits) {
    super()
  }

  /**
   * Registers a socket that authenticated as `viewer`, or closes it with 4429 when its token
   * holds as many connections as allowed. Returns whether it was admitted.
   */
  admit(socket: RegisteredSocket, viewer: Viewer): boolean {
    // closed while its token was being checked: its close event has fired already
    if (socket.readyState !== OPEN) return false
    const sameToken = this.byToken.get(viewer.tokenId)
    if (sameToken && sameToken.size >= this.limits.maxConnectionsPerToken) {
      socket.close(TOO_MANY_CONNECTIONS, 'Too many connections for this token')
      return false
    }
    const connection: Connection = { tokenId: viewer.tokenId, principalId: viewer.id, operations: new Set() }
    this.connections.set(socket, connection)
    addTo(this.byToken, viewer.tokenId, socket)
    addTo(this.byPrincipal, viewer.id, socket)
    socket.once('close', () => this.forget(socket))
    this.emit('change')
    return true
  }

  /**
   * Counts an operation starting on a socket, or returns the error refusing it when the
   * connection or its principal runs as many as allowed. Counted at once, so that operations
   * arriving together cannot all pass the check.
   */
  startOperation(socket: RegisteredSocket, id: string): ApiError | undefined {
    const connection = this.connections.get(socket)
    if (!connection) return new ApiError('UNAUTHENTICATED', 'This connection is closing.')
    const { maxOperationsPerConnection, maxOperationsPerPrincipal } = this.limits
    if (connection.operations.size >= maxOperationsPerConnection) {
      return new ApiError('BAD_USER_INPUT', `At most ${maxOperationsPerConnection} operations may run at once on one connection.`)
    }
    const running = this.operationsByPrincipal.get(connection.principalId) ?? 0
    if (running >= maxOperationsPerPrincipal) {
      return new ApiError('RATE_LIMITED', `At most ${maxOperationsPerPrincipal} subscriptions may run at once for one principal; complete one to start another.`)
    }
    connection.operations.add(id)
    this.operationsByPrincipal.set(connection.principalId, running + 1)
    this.emit('change')
    return undefined
  }

  /** Uncounts an operation that completed, failed or was refused; idempotent. */
  endOperation(socket: RegisteredSocket, id: string): void {
    const connection = this.connections.get(socket)
    if (!connection?.operations.delete(id)) return
    this.uncount(connection.principalId, 1)
    this.emit('change')
  }

  /** Closes every socket opened with the token, or by the principal, with 4403. */
  revoke(match: { tokenId?: string; principalId?: string }): number {
    const sockets = new Set<RegisteredSocket>()
    if (match.tokenId) for (const s of this.byToken.get(match.tokenId) ?? []) sockets.add(s)
    if (match.principalId) for (const s of this.byPrincipal.get(match.principalId) ?? []) sockets.add(s)
    for (const socket of sockets) {
      const viaToken = match.tokenId !== undefined && this.connections.get(socket)?.tokenId === match.tokenId
      socket.close(ACCESS_REVOKED, viaToken ? 'Forbidden: token revoked' : 'Forbidden: agent disabled')
      // no more operations start on it while the close handshake runs
      this.forget(socket)
    }
    return sockets.size
  }

  /** The tokens of the open connections. */
  tokenIds(): string[] {
    return [...this.byToken.keys()]
  }

  /** Counts, for tests and diagnostics: open connections and running operations, in all and per principal. */
  stats(principalId?: string): { connections: number; operations: number } {
    if (principalId !== undefined) {
      return { connections: this.byPrincipal.get(principalId)?.size ?? 0, operations: this.operationsByPrincipal.get(principalId) ?? 0 }
    }
    let operations = 0
    for (const n of this.operationsByPrincipal.values()) operations += n
    return { connections: this.connections.size, operations }
  }

  /** Resolves once `predicate` holds (checked now and after each change). */
  until(predicate: (registry: this) => boolean): Promise<void> {
    return new Promise((resolve) => {
      const check = () => {
        if (!predicate(this)) return
        this.off('change', check)
        resolve()
      }
      this.on('change', check)
      check()
    })
  }

  private forget(socket: RegisteredSocket) {
    const connection = this.connections.get(socket)
    if (!connection) return
    this.connections.delete(socket)
    removeFrom(this.byToken, connection.tokenId, socket)
    removeFrom(this.byPrincipal, connection.principalId, socket)
    this.uncount(connection.principalId, connection.operations.size)
    connection.operations.clear()
    this.emit('change')
  }

  private uncount(principalId: string, n: number) {
    const left = (this.operationsByPrincipal.get(principalId) ?? 0) - n
    if (left > 0) this.operationsByPrincipal.set(principalId, left)
    else this.operationsByPrincipal.delete(principalId)
  }
}

function addTo<K, V>(map: Map<K, Set<V>>, key: K, value: V) {
  const set = map.get(key) ?? new Set<V>()
  set.add(value)
  map.set(key, set)
}

function removeFrom<K, V>(map: Map<K, Set<V>>, key: K, value: V) {
  const set = map.get(key)
  if (!set) return
  set.delete(value)
  if (set.size === 0) map.delete(key)
}
