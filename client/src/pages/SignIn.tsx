import { useState, type FormEvent } from 'react'
import { checkToken } from '../lib/auth'

export function SignIn({ onSignIn }: { onSignIn: (token: string) => void }) {
  const [token, setToken] = useState('')
  const [error, setError] = useState<string | null>(null)
  const [busy, setBusy] = useState(false)
  async function submit(e: FormEvent) {
    e.preventDefault()
    const value = token.trim()
    if (!value) return setError('Paste your API token.')
    setBusy(true)
    const result = await checkToken(value)
    setBusy(false)
    if (result.ok) onSignIn(value)
    else setError(result.message)
  }
  return (
    <main className="signin">
      <form onSubmit={submit} aria-labelledby="signin-title">
        <h1 id="signin-title">Approvals</h1>
        <p>Sign in with your API token. An administrator can issue you one; it is kept in this browser tab only.</p>
        <label htmlFor="token">API token</label>
        <input id="token" type="password" autoComplete="off" value={token} onChange={(e) => setToken(e.target.value)} autoFocus />
        {error && (
          <p role="alert" className="error">
            {error}
          </p>
        )}
        <button type="submit" disabled={busy}>
          {busy ? 'Checking…' : 'Sign in'}
        </button>
      </form>
    </main>
  )
}
