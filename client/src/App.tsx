import { lazy, Suspense } from 'react'
import { Link, Redirect, Route, Router, Switch, useLocation } from 'wouter'
import { useHashLocation } from 'wouter/use-hash-location'
import { useMutation } from 'urql'
import { graphql } from './gql'
import { SessionProvider, useSession } from './lib/auth'
import { HistoryPage } from './pages/History'
import { InboxPage } from './pages/Inbox'
import { PeoplePage } from './pages/People'
import { SignIn } from './pages/SignIn'

// the rule editor (and its condition builder) loads when an admin opens it
const RulesPage = lazy(() => import('./pages/Rules').then((m) => ({ default: m.RulesPage })))

const SetAvailability = graphql(`
  mutation SetMyAvailability($available: Boolean!) {
    setMyAvailability(available: $available) {
      id
      available
    }
  }
`)

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
  return (
    <div className="shell">
      <header>
        <strong className="brand">Approvals</strong>
        <nav aria-label="Main">
          {session.can('approval:resolve') && <NavLink href="/inbox">Inbox</NavLink>}
          {session.can('approval:view') && <NavLink href="/history">History</NavLink>}
          {session.can('approval:manage') && <NavLink href="/rules">Rules</NavLink>}
          {session.can('directory:manage') && <NavLink href="/people">People and agents</NavLink>}
        </nav>
        <div className="me">
          {session.kind === 'User' && (
            <label className="availability" title="While you are away, your requests go to the fallback reviewers">
              <input
                type="checkbox"
                checked={session.available}
                disabled={fetching}
                onChange={(e) => void setAvailability({ available: e.target.checked }, { additionalTypenames: ['User'] })}
              />
              Available
            </label>
          )}
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
            <Route path="/people">{session.can('directory:manage') ? <PeoplePage /> : <Redirect to="/inbox" />}</Route>
            <Route>
              <Redirect to="/inbox" />
            </Route>
          </Switch>
        </Suspense>
      </main>
    </div>
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
