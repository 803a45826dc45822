// What a POST to /graphql may carry: JSON only. A browser sends a form (form-encoded or
// multipart) or text/plain to any site without asking it first (no CORS preflight), so a page
// on another site could post an operation through a reviewer's browser; yoga would parse and run
// those bodies too. JSON (application/json, or application/graphql+json) always needs a
// preflight when sent cross-site, which this server never grants. The decision page
// (/decide/<token>) and Slack's interactivity endpoint take their forms on routes of their own.
import { GraphQLError } from 'graphql'
import type { Plugin } from 'graphql-yoga'

/** The media types a POST to /graphql may have. */
const JSON_TYPES = new Set(['application/json', 'application/graphql+json'])

/** Refuses, with 415 and before anything is parsed or run, a POST whose body is not JSON. */
export const useJsonPostsOnly = (): Plugin => ({
  onRequestParse: ({ request }) => {
    if (request.method !== 'POST') return
    const type = request.headers.get('content-type')?.split(';')[0]?.trim().toLowerCase() ?? ''
    if (JSON_TYPES.has(type)) return
    throw new GraphQLError(
      `POST bodies must be JSON: send JSON (content-type: application/json). Forms, multipart and text bodies (${type || 'no content-type'}) are refused, since a page on another site could send them.`,
      { extensions: { code: 'BAD_USER_INPUT', http: { status: 415 } } },
    )
  },
})
