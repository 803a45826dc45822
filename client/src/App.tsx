import { lazy, Suspense, useState } from 'react'
import { PersonSelect } from './components/PersonSelect'
import { Link, Redirect, Route, Router, Switch, useLocation } from 'wouter'
import { useHashLocation } from 'wouter/use-hash-location'
import { useMutation, useQuery } from 'urql'
import { graphql } from './gql'
import { MyNotifications } from './components/MyNotifications'
import { SessionProvider, useSession } from './lib/auth'
import { DecisionsProvider } from './lib/decisions'
import { errorMessage } from './lib/format'
import { HistoryPage } from './pages/History'
import { InboxPage } from './pages/Inbox'
import { PeoplePage } from './pages/People'
import { SignIn } from './pages/SignIn'

// the rule editor (and its condition builder) loads when an admin opens it
const RulesPage = lazy(() => import('./pages/Rules').then((m) => ({ default: m.RulesPage })))
const WebhooksPage = lazy(() => import('./pages/Webhooks').then((m) => ({ default: m.WebhooksPage })))

const SetAvailability = graphql(`
  mutation SetMyAvailability($available: Boolean!, $until: DateTime, $delegateId: ID) {
    setMyAvailability(available: $available, until: $until, delegateId: $delegateId) {
      id
      available
      awayUntil
      delegate {
        id
        name
      }
    }
  }
`)

const People = graphql(`
  query DelegateCandidates {
    users {
      id
      name
    }
  }
`)

/**
 * Going away: until when (optional: the scheduler brings you back), and who reviews in your place
 * meanwhile (optional: without a delegate, the rules' fallbacks do). Your pending requests move to
 * the delegate at once.
 */
function AwayForm({ onDone }: { onDone: () => void }) {
  const session = useSession()
  const [{ data }] = useQuery({ query: People })
  const [until, setUntil] = useState('')
  const [delegateId, setDelegateId] = useState('')
  const [error, setError] = useState<string | null>(null)
  const [{ fetching }, setAvailability] = useMutation(SetAvailability)
  const submit = async () => {
    const result = await setAvailability(
      { available: false, until: until ? new Date(until).toISOString() : null, delegateId: delegateId || null },
      { additionalTypenames: ['User'] },
    )
    if (result.error) setError(errorMessage(result.error))
    else onDone()
  }
  return (
    <form
      className="away-form"
      aria-label="Going away"
      // a panel over the page: while it is open, the inbox's keys do nothing (lib/hooks.ts, overlayOpen)
      data-overlay
      onSubmit={(e) => {
        e.preventDefault()
        void submit()
      }}
    >
      <label>
        Back on (optional)
        <input type="datetime-local" value={until} onChange={(e) => setUntil(e.target.value)} />
      </label>
      <label>
        Reviews in my place
        <PersonSelect value={delegateId} onChange={setDelegateId} people={data?.users ?? []} exclude={session.viewerId} none="Nobody: the rules' fallbacks" />
      </label>
      {error && (
        <p role="alert" className="error">
          {error}
        </p>
      )}
      <div className="buttons">
        <button type="submit" disabled={fetching}>
          Go away
        </button>
        <button type="button" className="link" onClick={onDone}>
          Cancel
        </button>
      </div>
    </form>
  )
}

/** IDs travel URI-encoded in the path (they may hold "/" and "="). */
const decodeParam = (value: string | undefined) => (value === undefined ? undefined : decodeURIComponent(value))

function NavLink({ href, children }: { href: string; children: string }) {
  const [location] = useLocation()
  const active = location === href || location.startsWith(`${href}/`)
  return (
    <Link href={href} className={active ? 'active' : undefined} aria-current={active ? 'page' : undefined}>
      {children}
    </Link>
  )
}

function Shell() {
  const session = useSession()
  const [{ fetching }, setAvailability] = useMutation(SetAvailability)
  const [leaving, setLeaving] = useState(false)
  return (
    <DecisionsProvider token={session.token}>
      <div className="shell">
        <header>
          <strong className="brand">Approvals</strong>
          <nav aria-label="Main">
            {session.can('approval:resolve') && <NavLink href="/inbox">Inbox</NavLink>}
            {session.can('approval:view') && <NavLink href="/history">History</NavLink>}
            {session.can('approval:manage') && <NavLink href="/rules">Rules</NavLink>}
            {session.can('approval:manage') && <NavLink href="/webhooks">Webhooks</NavLink>}
            {session.can('directory:manage') && <NavLink href="/people">People and agents</NavLink>}
          </nav>
          <div className="me">
            {session.kind === 'User' && (
              <label className="availability" title="While you are away, your requests go to your delegate, or to the fallback reviewers">
                <input
                  type="checkbox"
                  checked={session.available && !leaving}
                  disabled={fetching}
                  onChange={(e) => (e.target.checked ? void setAvailability({ available: true }, { additionalTypenames: ['User'] }) : setLeaving(true))}
                />
                Available
              </label>
            )}
            {leaving && <AwayForm onDone={() => setLeaving(false)} />}
            {session.kind === 'User' && <MyNotifications />}
            <span className="who">{session.name}</span>
            <button type="button" className="link" onClick={session.signOut}>
              Sign out
            </button>
          </div>
        </header>
        <main>
          <Suspense fallback={<p className="state">Loading…</p>}>
            <Switch>
              <Route path="/inbox/:id?">{(params) => <InboxPage selectedId={decodeParam(params.id)} />}</Route>
              <Route path="/history">{session.can('approval:view') ? <HistoryPage /> : <Redirect to="/inbox" />}</Route>
              <Route path="/rules/:id?">{(params) => (session.can('approval:manage') ? <RulesPage selectedId={decodeParam(params.id)} /> : <Redirect to="/inbox" />)}</Route>
              <Route path="/webhooks/:id?">{(params) => (session.can('approval:manage') ? <WebhooksPage selectedId={decodeParam(params.id)} /> : <Redirect to="/inbox" />)}</Route>
              <Route path="/people">{session.can('directory:manage') ? <PeoplePage /> : <Redirect to="/inbox" />}</Route>
              <Route>
                <Redirect to="/inbox" />
              </Route>
            </Switch>
          </Suspense>
        </main>
      </div>
    </DecisionsProvider>
  )
}

export function App() {
  return (
    <Router hook={useHashLocation}>
      <SessionProvider signedOut={(signIn) => <SignIn onSignIn={signIn} />}>
        <Shell />
      </SessionProvider>
    </Router>
  )
}
