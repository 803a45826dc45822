import { createContext, useCallback, useContext, useEffect, useMemo, useState, type ReactNode } from 'react'
import { Provider, useQuery } from 'urql'
import { graphql } from '../gql'
import { createApiClient, TOKEN_KEY } from './client'

const ViewerQuery = graphql(`
  query Viewer {
    viewer {
      permissions
      principal {
        __typename
        id
        name
        ... on User {
          email
          available
        }
      }
    }
  }
`)

export interface Session {
  token: string
  viewerId: string
  name: string
  kind: 'User' | 'Agent'
  available: boolean
  permissions: ReadonlySet<string>
  can(permission: string): boolean
  signOut(): void
}

const SessionContext = createContext<Session | null>(null)

/** The signed-in session; only inside <SessionProvider> after sign-in. */
export function useSession(): Session {
  const session = useContext(SessionContext)
  if (!session) throw new Error('useSession outside a signed-in session')
  return session
}

/** Checks a token against the API: the viewer, or the message to show. */
export async function checkToken(token: string): Promise<{ ok: true } | { ok: false; message: string }> {
  try {
    const res = await fetch('/graphql', {
      method: 'POST',
      headers: { 'content-type': 'application/json', authorization: `Bearer ${token}` },
      body: JSON.stringify({ query: '{ viewer { principal { id } } }' }),
    })
    const body = (await res.json()) as { data?: unknown; errors?: { message: string; extensions?: { code?: string } }[] }
    if (body.errors?.length) {
      const code = body.errors[0]!.extensions?.code
      return { ok: false, message: code === 'UNAUTHENTICATED' ? 'This token is not valid: it is unknown, revoked, or mistyped.' : body.errors[0]!.message }
    }
    return { ok: true }
  } catch {
    return { ok: false, message: 'The server cannot be reached. Check your connection and try again.' }
  }
}

function Loaded({ token, signOut, children }: { token: string; signOut: () => void; children: ReactNode }) {
  const [{ data, error, fetching }] = useQuery({ query: ViewerQuery })
  const session = useMemo<Session | null>(() => {
    if (!data) return null
    const permissions = new Set(data.viewer.permissions)
    const p = data.viewer.principal
    return {
      token,
      viewerId: p.id,
      name: p.name,
      kind: p.__typename === 'Agent' ? 'Agent' : 'User',
      available: p.__typename === 'User' ? p.available : true,
      permissions,
      can: (permission: string) => permissions.has(permission),
      signOut,
    }
  }, [data, token, signOut])
  useEffect(() => {
    if (error?.graphQLErrors.some((e) => e.extensions?.code === 'UNAUTHENTICATED')) signOut()
  }, [error, signOut])
  if (fetching && !data) return <p className="state">Loading…</p>
  if (!session) return <p className="state error">Could not load your account: {error?.message}</p>
  return <SessionContext.Provider value={session}>{children}</SessionContext.Provider>
}

/**
 * A token handed over in the address's fragment (`/#token=...`, the link the server prints for
 * the first owner): taken into this tab's session and removed from the address bar and history.
 * A fragment never reaches the server.
 */
function tokenFromLink(): string | null {
  const match = /^#token=([\w.~-]+)$/.exec(window.location.hash)
  if (!match) return null
  sessionStorage.setItem(TOKEN_KEY, match[1]!)
  window.history.replaceState(null, '', window.location.pathname + window.location.search)
  return match[1]!
}

/**
 * Keeps the API token for this browser tab (sessionStorage), and renders `signedOut` without one
 * and `children` with one.
 */
export function SessionProvider({ signedOut, children }: { signedOut: (signIn: (token: string) => void) => ReactNode; children: ReactNode }) {
  const [token, setToken] = useState(() => tokenFromLink() ?? sessionStorage.getItem(TOKEN_KEY))
  const signIn = useCallback((t: string) => {
    sessionStorage.setItem(TOKEN_KEY, t)
    setToken(t)
  }, [])
  const signOut = useCallback(() => {
    // nothing of this user stays for the next one: read marks, unsent comments, the tab's count
    for (const key of Object.keys(sessionStorage)) if (key.startsWith('approvals.')) sessionStorage.removeItem(key)
    document.title = 'Approvals'
    setToken(null)
  }, [])
  const api = useMemo(() => (token ? createApiClient(token, signOut) : null), [token, signOut])
  useEffect(() => () => api?.dispose(), [api])
  if (!token || !api) return <>{signedOut(signIn)}</>
  return (
    <Provider value={api.client}>
      <Loaded token={token} signOut={signOut}>
        {children}
      </Loaded>
    </Provider>
  )
}
