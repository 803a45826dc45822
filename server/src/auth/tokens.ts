import { createHash, randomBytes } from 'node:crypto'

const PREFIX = 'apv_'

/** A new bearer secret: 256 random bits, prefixed so that leaked tokens are easy to spot. */
export function generateToken(): string {
  return PREFIX + randomBytes(32).toString('base64url')
}

/**
 * What is stored for a token. Secrets carry 256 bits of entropy (the bootstrap token is
 * operator-chosen, at least 16 characters), so a fast hash suffices: there is nothing to brute-force.
 */
export function hashToken(token: string): string {
  return createHash('sha256').update(token).digest('hex')
}

/** The token of an `Authorization: Bearer <token>` value, or undefined for any other form. */
export function parseBearer(header: unknown): string | undefined {
  if (typeof header !== 'string') return undefined
  const match = /^Bearer\s+(\S+)\s*$/i.exec(header)
  return match?.[1]
}
