import { GraphQLError } from 'graphql'

/** The error codes of the public contract, carried in `extensions.code`. */
export type ErrorCode = 'UNAUTHENTICATED' | 'FORBIDDEN' | 'NOT_FOUND' | 'BAD_USER_INPUT' | 'CONFLICT' | 'RATE_LIMITED'

const httpStatus: Record<ErrorCode, number> = {
  UNAUTHENTICATED: 401,
  FORBIDDEN: 403,
  NOT_FOUND: 404,
  BAD_USER_INPUT: 400,
  CONFLICT: 409,
  RATE_LIMITED: 429,
}

/**
 * An expected failure that the caller may act on. It reaches the client unmasked, with its
 * code, and (for input errors) the path of the offending input field in `extensions.field`.
 */
export class ApiError extends GraphQLError {
  constructor(code: ErrorCode, message: string, extra: Record<string, unknown> = {}, headers?: Record<string, string>) {
    // yoga uses extensions.http for the status (and headers) of a response made of this error
    // alone, and strips it from the body
    super(message, { extensions: { code, ...extra, http: { status: httpStatus[code], ...(headers ? { headers } : {}) } } })
  }
}

export const unauthenticated = (message = 'Authentication required: send Authorization: Bearer <token>.') =>
  new ApiError('UNAUTHENTICATED', message)
export const forbidden = (message: string) => new ApiError('FORBIDDEN', message)
export const notFound = (what: string) => new ApiError('NOT_FOUND', `${what} not found.`)
export const badInput = (message: string, field?: string) =>
  new ApiError('BAD_USER_INPUT', message, field ? { field } : {})
export const conflict = (message: string) => new ApiError('CONFLICT', message)

/** Too many calls: HTTP 429 with `Retry-After`, and `extensions.retryAfterSeconds` for WebSocket clients. */
export const rateLimited = (message: string, retryAfterSeconds: number) =>
  new ApiError('RATE_LIMITED', message, { retryAfterSeconds }, { 'retry-after': String(retryAfterSeconds) })
