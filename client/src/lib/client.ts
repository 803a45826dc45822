import { Client, cacheExchange, fetchExchange, subscriptionExchange } from 'urql'
import { createClient as createWsClient } from 'graphql-ws'

/**
 * Tells whether the live connection is up; 'connected' fires on every (re)connection, so that
 * views can read again what they might have missed while it was down.
 */
export const liveConnection = Object.assign(new EventTarget(), { up: false })

/** The GraphQL client for one signed-in token: HTTP for queries and mutations, graphql-ws for subscriptions. */
export function createApiClient(token: string, onAuthError: () => void): { client: Client; dispose: () => void } {
  const wsUrl = `${location.protocol === 'https:' ? 'wss' : 'ws'}://${location.host}/graphql`
  const ws = createWsClient({
    url: wsUrl,
    connectionParams: { authorization: `Bearer ${token}`, client: 'inbox' },
    retryAttempts: Infinity,
    shouldRetry: () => true,
    on: {
      connected: () => {
        liveConnection.up = true
        liveConnection.dispatchEvent(new Event('change'))
      },
      closed: (event) => {
        liveConnection.up = false
        liveConnection.dispatchEvent(new Event('change'))
        const code = (event as CloseEvent).code
        if (code === 4401 || code === 4403) onAuthError()
      },
    },
  })
  const client = new Client({
    url: '/graphql',
    // POST only: the server refuses GET requests a browser could forge cross-site (CSRF prevention)
    preferGetMethod: false,
    // the inbox names itself: the audit trail says a person's decisions were made in it
    fetchOptions: () => ({ headers: { authorization: `Bearer ${token}`, 'x-approvals-client': 'inbox' } }),
    exchanges: [
      cacheExchange,
      fetchExchange,
      subscriptionExchange({
        forwardSubscription: (request) => ({
          subscribe: (sink) => ({ unsubscribe: ws.subscribe({ ...request, query: request.query ?? '' }, sink) }),
        }),
      }),
    ],
  })
  return { client, dispose: () => void ws.dispose() }
}

export const TOKEN_KEY = 'approvals.token'
