// People and agents (directory:manage): who has which roles and manager, who is away and who
// reviews in their place, which agents run and for whom, and every API token in use. Changes of
// power (roles, manager, the people an agent acts for, disabling an agent, revoking a token) are
// shown as what will change and sent only once confirmed.
import { PersonSelect } from '../components/PersonSelect'
import { useEffect, useId, useLayoutEffect, useRef, useState, type FormEvent, type ReactNode } from 'react'
import { useMutation, useQuery } from 'urql'
import { getFragmentData, graphql, type FragmentType } from '../gql'
import type { PeopleQuery as PeopleData } from '../gql/graphql'
import { errorMessage, formatDateTime } from '../lib/format'
import { choiceChange, fromLocalInput, setChange, toLocalInput, type Change } from '../lib/people'
import { UserNotifications } from '../components/UserNotifications'
import '../styles/people.css'

export const ApiTokenFields = graphql(`
  fragment ApiTokenFields on ApiToken {
    id
    name
    createdAt
    lastUsedAt
  }
`)

const PeopleQuery = graphql(`
  query People {
    users {
      id
      name
      email
      available
      awayUntil
      delegate {
        id
        name
      }
      roles {
        key
        name
      }
      manager {
        id
        name
      }
      apiTokens {
        ...ApiTokenFields
      }
      ...UserNotificationsFields
    }
    agents {
      id
      name
      description
      enabled
      owner {
        id
        name
      }
      actsFor {
        id
        name
      }
      apiTokens {
        ...ApiTokenFields
      }
    }
    roles {
      key
      name
    }
  }
`)

const CreateUser = graphql(`
  mutation CreateUser($input: CreateUserInput!) {
    createUser(input: $input) {
      id
    }
  }
`)

const UpdateUser = graphql(`
  mutation UpdateUser($id: ID!, $input: UpdateUserInput!) {
    updateUser(id: $id, input: $input) {
      id
      available
      awayUntil
      delegate {
        id
      }
      roles {
        key
      }
      manager {
        id
      }
    }
  }
`)

const CreateAgent = graphql(`
  mutation CreateAgent($input: CreateAgentInput!) {
    createAgent(input: $input) {
      id
    }
  }
`)

const UpdateAgent = graphql(`
  mutation UpdateAgent($id: ID!, $input: UpdateAgentInput!) {
    updateAgent(id: $id, input: $input) {
      id
      enabled
      actsFor {
        id
      }
    }
  }
`)

const CreateToken = graphql(`
  mutation CreateToken($principalId: ID!, $name: String!) {
    createApiToken(principalId: $principalId, name: $name) {
      token
      apiToken {
        id
      }
    }
  }
`)

const RevokeToken = graphql(`
  mutation RevokeApiToken($id: ID!) {
    revokeApiToken(id: $id) {
      id
      revokedAt
    }
  }
`)

type UserRow = PeopleData['users'][number]
type AgentRow = PeopleData['agents'][number]
type RoleRow = PeopleData['roles'][number]

const refresh = { additionalTypenames: ['User', 'Agent', 'ApiToken'] }
const message = (error: Parameters<typeof errorMessage>[0] | undefined) => error && errorMessage(error)

/**
 * A modal confirmation (a native `<dialog>`: focus stays inside, Escape cancels) that says what
 * will change before anything is sent. Focus starts on Confirm, or on Cancel for what cannot be
 * undone, and goes back where it was when the dialog closes.
 */
export function ConfirmDialog(props: {
  title: string
  changes?: Change[]
  children?: ReactNode
  confirmLabel: string
  destructive?: boolean
  busy: boolean
  error?: string
  onConfirm: () => void
  onCancel: () => void
}) {
  const { title, changes, children, confirmLabel, destructive, busy, error, onConfirm, onCancel } = props
  const ref = useRef<HTMLDialogElement>(null)
  const confirmRef = useRef<HTMLButtonElement>(null)
  const cancelRef = useRef<HTMLButtonElement>(null)
  const titleId = useId()
  const bodyId = useId()
  // before the browser paints, and undone before React removes the element (so focus returns)
  useLayoutEffect(() => {
    const dialog = ref.current!
    const opener = document.activeElement instanceof HTMLElement ? document.activeElement : null
    dialog.showModal()
    ;(destructive ? cancelRef : confirmRef).current?.focus()
    return () => {
      dialog.close()
      if (opener?.isConnected) opener.focus()
    }
  }, [destructive])
  return (
    <dialog
      ref={ref}
      className="confirm"
      aria-labelledby={titleId}
      aria-describedby={bodyId}
      onCancel={(e) => {
        e.preventDefault()
        if (!busy) onCancel()
      }}
      // Chromium may close it on a second Escape without a cancellable event: follow it
      onClose={() => !busy && onCancel()}
    >
      <h2 id={titleId}>{title}</h2>
      <div id={bodyId}>
        {changes && (
          <dl className="changes" aria-label="Changes">
            {changes.map((c) => (
              <div key={c.field}>
                <dt>{c.field}</dt>
                <dd>
                  <span className="from">{c.from}</span>
                  {' '}
                  <span role="img" aria-label="becomes">
                    →
                  </span>{' '}
                  <strong className="to">{c.to}</strong>
                </dd>
              </div>
            ))}
          </dl>
        )}
        {children}
      </div>
      {error && (
        <p className="error" role="alert">
          {error}
        </p>
      )}
      <div className="buttons">
        <button ref={confirmRef} type="button" className={destructive ? 'danger' : 'primary'} disabled={busy} onClick={onConfirm}>
          {busy ? 'Saving…' : confirmLabel}
        </button>
        <button ref={cancelRef} type="button" disabled={busy} onClick={onCancel}>
          Cancel
        </button>
      </div>
    </dialog>
  )
}

/** What happened last, read out by screen readers and shown next to the form. */
function Status({ text }: { text: string }) {
  return (
    <p role="status" className="hint status-line">
      {text}
    </p>
  )
}

/** A new token: a name, then the secret, shown once, with a copy button. */
function NewToken({ principalId, holder }: { principalId: string; holder: string }) {
  const [state, create] = useMutation(CreateToken)
  const [name, setName] = useState('')
  const [copied, setCopied] = useState(false)
  const [shown, setShown] = useState<string | null>(null)
  const inputId = useId()
  if (shown) {
    return (
      <div className="token">
        <code aria-label={`New token for ${holder}`}>{shown}</code>
        <button type="button" onClick={() => void navigator.clipboard?.writeText(shown).then(() => setCopied(true))}>
          {copied ? 'Copied' : 'Copy'}
        </button>
        <small>Shown once: store it now.</small>
        <button type="button" className="link" onClick={() => (setShown(null), setCopied(false))}>
          Done
        </button>
      </div>
    )
  }
  async function submit(e: FormEvent) {
    e.preventDefault()
    const res = await create({ principalId, name: name.trim() }, refresh)
    if (res.data) {
      setShown(res.data.createApiToken.token)
      setName('')
    }
  }
  return (
    <form className="inline" onSubmit={submit} aria-label={`New token for ${holder}`}>
      <label htmlFor={inputId} className="visually-hidden">
        Name of the new token
      </label>
      <input id={inputId} placeholder="Name of the new token (e.g. laptop)" value={name} onChange={(e) => setName(e.target.value)} required maxLength={100} />
      <button type="submit" disabled={state.fetching}>
        New token
      </button>
      {state.error && (
        <span className="error" role="alert">
          {message(state.error)}
        </span>
      )}
    </form>
  )
}

/** A principal's tokens in use: name, creation and last use, each revocable after a confirmation. */
function TokenList({ principalId, holder, tokens: masked }: { principalId: string; holder: string; tokens: readonly FragmentType<typeof ApiTokenFields>[] }) {
  const tokens = getFragmentData(ApiTokenFields, masked)
  const [state, revoke] = useMutation(RevokeToken)
  const [confirming, setConfirming] = useState<{ id: string; name: string; lastUsedAt: string | null } | null>(null)
  const [status, setStatus] = useState('')
  const heading = useRef<HTMLHeadingElement>(null)
  const headingId = useId()
  const [revocations, setRevocations] = useState(0)
  // the revoked token's row (and its button) is gone: keep the keyboard in this list (after the
  // dialog has given focus back to that button)
  useEffect(() => {
    if (revocations > 0) heading.current?.focus()
  }, [revocations])

  async function confirm() {
    if (!confirming) return
    const res = await revoke({ id: confirming.id }, refresh)
    if (res.error) return
    setRevocations((n) => n + 1)
    setConfirming(null)
    setStatus(`Token “${confirming.name}” revoked: it no longer works.`)
  }

  return (
    <section className="tokens" aria-labelledby={headingId}>
      <h3 id={headingId} ref={heading} tabIndex={-1}>
        API tokens
      </h3>
      {tokens.length === 0 ? (
        <p className="muted">No token in use.</p>
      ) : (
        <table className="token-table">
          <caption className="visually-hidden">API tokens of {holder}, newest first</caption>
          <thead>
            <tr>
              <th scope="col">Name</th>
              <th scope="col">Created</th>
              <th scope="col">Last used</th>
              <th scope="col">
                <span className="visually-hidden">Revoke</span>
              </th>
            </tr>
          </thead>
          <tbody>
            {tokens.map((t) => (
              <tr key={t.id}>
                <th scope="row">{t.name}</th>
                <td>
                  <time dateTime={t.createdAt}>{formatDateTime(t.createdAt)}</time>
                </td>
                <td>{t.lastUsedAt ? <time dateTime={t.lastUsedAt}>{formatDateTime(t.lastUsedAt)}</time> : <span className="muted">Never</span>}</td>
                <td>
                  <button type="button" className="danger" aria-label={`Revoke token ${t.name}`} onClick={() => setConfirming(t)}>
                    Revoke
                  </button>
                </td>
              </tr>
            ))}
          </tbody>
        </table>
      )}
      <Status text={status} />
      <NewToken principalId={principalId} holder={holder} />
      {confirming && (
        <ConfirmDialog
          title={`Revoke the token “${confirming.name}” of ${holder}?`}
          confirmLabel="Revoke token"
          destructive
          busy={state.fetching}
          error={message(state.error)}
          onConfirm={() => void confirm()}
          onCancel={() => setConfirming(null)}
        >
          <p>
            Anything signed in with it stops working at once, and it cannot be used again.{' '}
            {confirming.lastUsedAt ? `It was last used ${formatDateTime(confirming.lastUsedAt)}.` : 'It has never been used.'}
          </p>
        </ConfirmDialog>
      )}
    </section>
  )
}

/** Checkboxes for a set of choices, in a labelled group. */
function CheckboxGroup({ legend, options, selected, onChange }: { legend: string; options: { value: string; label: string }[]; selected: string[]; onChange: (next: string[]) => void }) {
  return (
    <fieldset className="checks">
      <legend>{legend}</legend>
      {options.length === 0 && <p className="muted">Nobody to choose.</p>}
      {options.map((o) => (
        <label key={o.value} className="check">
          <input
            type="checkbox"
            checked={selected.includes(o.value)}
            onChange={(e) => onChange(e.target.checked ? [...selected, o.value] : selected.filter((v) => v !== o.value))}
          />
          {o.label}
        </label>
      ))}
    </fieldset>
  )
}

/** A user's roles and manager: edited freely, sent after a confirmation that lists the changes. */
function RolesAndManager({ user, users, roles }: { user: UserRow; users: readonly UserRow[]; roles: readonly RoleRow[] }) {
  const savedRoles = user.roles.map((r) => r.key)
  const savedManager = user.manager?.id ?? null
  const [roleKeys, setRoleKeys] = useState(savedRoles)
  const [managerId, setManagerId] = useState(savedManager)
  const [confirming, setConfirming] = useState<Change[] | null>(null)
  const [status, setStatus] = useState('')
  const [state, update] = useMutation(UpdateUser)
  const managerSelect = useId()
  // what was saved (here or elsewhere) is the new starting point
  const savedKey = `${[...savedRoles].sort().join(',')}|${savedManager}`
  useEffect(() => {
    setRoleKeys(user.roles.map((r) => r.key))
    setManagerId(user.manager?.id ?? null)
  }, [savedKey])

  const roleName = (key: string) => roles.find((r) => r.key === key)?.name ?? key
  const userName = (id: string) => users.find((u) => u.id === id)?.name ?? 'someone else'
  const changes = [...setChange('Roles', savedRoles, roleKeys, roleName), ...choiceChange('Manager', savedManager, managerId, userName)]

  function review(e: FormEvent) {
    e.preventDefault()
    if (roleKeys.length === 0) return setStatus('Give at least one role.')
    if (changes.length === 0) return setStatus('Nothing to change.')
    setStatus('')
    setConfirming(changes)
  }
  async function confirm() {
    const input = {
      ...(changes.some((c) => c.field === 'Roles') ? { roleKeys } : {}),
      ...(changes.some((c) => c.field === 'Manager') ? { managerId } : {}),
    }
    const res = await update({ id: user.id, input }, refresh)
    if (res.error) return
    setConfirming(null)
    setStatus(`Saved: ${changes.map((c) => `${c.field.toLowerCase()} ${c.to}`).join('; ')}.`)
  }

  return (
    <form onSubmit={review} aria-label={`Roles and manager of ${user.name}`}>
      <h3>Roles and manager</h3>
      <CheckboxGroup legend="Roles" options={roles.map((r) => ({ value: r.key, label: r.name }))} selected={roleKeys} onChange={setRoleKeys} />
      <label htmlFor={managerSelect}>Reports to</label>
      <PersonSelect id={managerSelect} value={managerId ?? ''} onChange={(id) => setManagerId(id || null)} people={users} exclude={user.id} none="None" />
      <div className="buttons">
        <button type="submit">Review changes…</button>
      </div>
      <Status text={status} />
      {confirming && (
        <ConfirmDialog
          title={`Change ${user.name}'s ${confirming.map((c) => c.field.toLowerCase()).join(' and ')}?`}
          changes={confirming}
          confirmLabel="Confirm changes"
          busy={state.fetching}
          error={message(state.error)}
          onConfirm={() => void confirm()}
          onCancel={() => setConfirming(null)}
        >
          <p>Roles decide what {user.name} may see and decide, and the manager who reviews for them.</p>
        </ConfirmDialog>
      )}
    </form>
  )
}

/** Whether a user can review now, and if not until when and who reviews in their place. */
export function availabilityText(user: Pick<UserRow, 'available' | 'awayUntil' | 'delegate'>): string {
  if (user.available) return 'Available'
  const until = user.awayUntil ? ` until ${formatDateTime(user.awayUntil)}` : ''
  return `Away${until}${user.delegate ? `; ${user.delegate.name} reviews` : ''}`
}

/** Availability, the date the user comes back by itself, and the delegate who reviews meanwhile. */
function Availability({ user, users }: { user: UserRow; users: readonly UserRow[] }) {
  const [away, setAway] = useState(!user.available)
  const [until, setUntil] = useState(toLocalInput(user.awayUntil))
  const [delegateId, setDelegateId] = useState(user.delegate?.id ?? '')
  // what was saved (here, by the user, or by the scheduler bringing them back) is the new starting point
  useEffect(() => {
    setAway(!user.available)
    setUntil(toLocalInput(user.awayUntil))
    setDelegateId(user.delegate?.id ?? '')
  }, [user.available, user.awayUntil, user.delegate?.id])
  const [status, setStatus] = useState('')
  const [state, update] = useMutation(UpdateUser)
  const name = useId()
  const untilId = useId()
  const delegateSelect = useId()

  async function save(e: FormEvent) {
    e.preventDefault()
    const input = away
      ? { available: false, awayUntil: fromLocalInput(until), delegateId: delegateId || null }
      : { available: true, delegateId: delegateId || null }
    const res = await update({ id: user.id, input }, refresh)
    if (res.data) {
      const after = res.data.updateUser
      setStatus(`Saved: ${availabilityText({ ...after, delegate: after.delegate ? { id: after.delegate.id, name: users.find((u) => u.id === after.delegate!.id)?.name ?? '' } : null })}.`)
    }
  }

  return (
    <form onSubmit={save} aria-label={`Availability of ${user.name}`}>
      <h3>Availability</h3>
      <fieldset className="checks">
        <legend>Can review requests now</legend>
        <label className="check">
          <input type="radio" name={name} checked={!away} onChange={() => setAway(false)} />
          Available
        </label>
        <label className="check">
          <input type="radio" name={name} checked={away} onChange={() => setAway(true)} />
          Away
        </label>
      </fieldset>
      <label htmlFor={untilId}>Away until (optional)</label>
      <input id={untilId} type="datetime-local" value={until} disabled={!away} onChange={(e) => setUntil(e.target.value)} aria-describedby={`${untilId}-hint`} />
      <p id={`${untilId}-hint`} className="hint">
        Without a date, {user.name} stays away until someone makes them available again.
      </p>
      <label htmlFor={delegateSelect}>Reviews in their place while away</label>
      <PersonSelect id={delegateSelect} value={delegateId} onChange={setDelegateId} people={users} exclude={user.id} none="Nobody: the rules' fallbacks" />
      <div className="buttons">
        <button type="submit" disabled={state.fetching}>
          Save availability
        </button>
      </div>
      {state.error && (
        <p className="error" role="alert">
          {message(state.error)}
        </p>
      )}
      <Status text={status} />
    </form>
  )
}

function PersonPanel({ user, users, roles, id }: { user: UserRow; users: readonly UserRow[]; roles: readonly RoleRow[]; id: string }) {
  return (
    <section id={id} className="panel" aria-label={`Manage ${user.name}`}>
      <RolesAndManager user={user} users={users} roles={roles} />
      <Availability user={user} users={users} />
      <UserNotifications user={user} />
      <TokenList principalId={user.id} holder={user.name} tokens={user.apiTokens} />
    </section>
  )
}

/** An agent on or off: disabling stops its tokens at once, so it asks first; enabling does not. */
function AgentSwitch({ agent }: { agent: AgentRow }) {
  const [state, update] = useMutation(UpdateAgent)
  const [confirming, setConfirming] = useState(false)
  const [status, setStatus] = useState('')
  async function set(enabled: boolean) {
    const res = await update({ id: agent.id, input: { enabled } }, refresh)
    if (res.error) return
    setConfirming(false)
    setStatus(enabled ? `${agent.name} is enabled: its tokens work again.` : `${agent.name} is disabled: its tokens are refused.`)
  }
  return (
    <div>
      <h3>Status</h3>
      <p>
        {agent.enabled ? 'Enabled: it can ask for approval and act.' : 'Disabled: its tokens are refused until it is enabled again.'}{' '}
        {agent.enabled ? (
          <button type="button" className="danger" onClick={() => setConfirming(true)}>
            Disable agent
          </button>
        ) : (
          <button type="button" disabled={state.fetching} onClick={() => void set(true)}>
            Enable agent
          </button>
        )}
      </p>
      {!confirming && state.error && (
        <p className="error" role="alert">
          {message(state.error)}
        </p>
      )}
      <Status text={status} />
      {confirming && (
        <ConfirmDialog
          title={`Disable ${agent.name}?`}
          confirmLabel="Disable agent"
          destructive
          busy={state.fetching}
          error={message(state.error)}
          onConfirm={() => void set(false)}
          onCancel={() => setConfirming(false)}
        >
          <p>Its tokens stop working and its open connections close at once. You can enable it again later.</p>
        </ConfirmDialog>
      )}
    </div>
  )
}

/** The people, besides its owner, an agent may act for. */
function ActsFor({ agent, users }: { agent: AgentRow; users: readonly UserRow[] }) {
  const saved = agent.actsFor.map((u) => u.id)
  const savedKey = [...saved].sort().join(',')
  const [ids, setIds] = useState(saved)
  const [confirming, setConfirming] = useState<Change[] | null>(null)
  const [status, setStatus] = useState('')
  const [state, update] = useMutation(UpdateAgent)
  // what was saved is the new starting point
  useEffect(() => setIds(savedKey.split(',').filter(Boolean)), [savedKey])
  const userName = (id: string) => users.find((u) => u.id === id)?.name ?? 'someone else'
  const changes = setChange('Acts for', saved, ids, userName)

  function review(e: FormEvent) {
    e.preventDefault()
    if (changes.length === 0) return setStatus('Nothing to change.')
    setStatus('')
    setConfirming(changes)
  }
  async function confirm() {
    const res = await update({ id: agent.id, input: { actsForUserIds: ids } }, refresh)
    if (res.error) return
    setConfirming(null)
    setStatus(`Saved: acts for ${changes[0]!.to}.`)
  }
  return (
    <form onSubmit={review} aria-label={`People ${agent.name} may act for`}>
      <h3>Acts for</h3>
      <CheckboxGroup
        legend={agent.owner ? `May act for, besides its owner ${agent.owner.name}` : 'May act for'}
        options={users.filter((u) => u.id !== agent.owner?.id).map((u) => ({ value: u.id, label: u.name }))}
        selected={ids}
        onChange={setIds}
      />
      <div className="buttons">
        <button type="submit">Review changes…</button>
      </div>
      <Status text={status} />
      {confirming && (
        <ConfirmDialog
          title={`Change whom ${agent.name} may act for?`}
          changes={confirming}
          confirmLabel="Confirm changes"
          busy={state.fetching}
          error={message(state.error)}
          onConfirm={() => void confirm()}
          onCancel={() => setConfirming(null)}
        >
          <p>The agent may ask for approval in the name of these people, and records they manage.</p>
        </ConfirmDialog>
      )}
    </form>
  )
}

function AgentPanel({ agent, users, id }: { agent: AgentRow; users: readonly UserRow[]; id: string }) {
  return (
    <section id={id} className="panel" aria-label={`Manage ${agent.name}`}>
      <AgentSwitch agent={agent} />
      <ActsFor agent={agent} users={users} />
      <TokenList principalId={agent.id} holder={agent.name} tokens={agent.apiTokens} />
    </section>
  )
}

/** "2 · last used 4 Mar 2030, 09:05", "None". */
function tokenSummary(masked: readonly FragmentType<typeof ApiTokenFields>[]): string {
  const tokens = getFragmentData(ApiTokenFields, masked)
  if (tokens.length === 0) return 'None'
  const last = tokens.map((t) => t.lastUsedAt).filter((d): d is string => !!d).sort().at(-1)
  return `${tokens.length} · ${last ? `last used ${formatDateTime(last)}` : 'never used'}`
}

/** The button that opens a row's panel (one at a time per list). */
function ManageButton({ name, open, controls, onToggle }: { name: string; open: boolean; controls: string; onToggle: () => void }) {
  return (
    <button type="button" className="manage" aria-expanded={open} aria-controls={open ? controls : undefined} aria-label={`Manage ${name}`} onClick={onToggle}>
      Manage <span aria-hidden="true">{open ? '▴' : '▾'}</span>
    </button>
  )
}

export function PeoplePage() {
  const [{ data, fetching, error }] = useQuery({ query: PeopleQuery })
  const [createUserState, createUser] = useMutation(CreateUser)
  const [createAgentState, createAgent] = useMutation(CreateAgent)
  const [user, setUser] = useState({ name: '', email: '', roleKeys: ['member'], managerId: '' })
  const [agent, setAgent] = useState({ name: '', ownerId: '', description: '' })
  const [openUser, setOpenUser] = useState<string | null>(null)
  const [openAgent, setOpenAgent] = useState<string | null>(null)
  const panelIds = useId()

  if (error) return <p className="state error">Could not load people: {errorMessage(error)}</p>
  if (fetching && !data) return <p className="state">Loading…</p>
  if (!data) return null

  async function addUser(e: FormEvent) {
    e.preventDefault()
    const res = await createUser({ input: { name: user.name, email: user.email, roleKeys: user.roleKeys, managerId: user.managerId || null } }, refresh)
    if (!res.error) setUser({ name: '', email: '', roleKeys: ['member'], managerId: '' })
  }
  async function addAgent(e: FormEvent) {
    e.preventDefault()
    const res = await createAgent({ input: { name: agent.name, ownerId: agent.ownerId || null, description: agent.description || null } }, refresh)
    if (!res.error) setAgent({ name: '', ownerId: '', description: '' })
  }

  return (
    <div className="people">
      <section aria-labelledby={`${panelIds}-people`}>
        <h1 id={`${panelIds}-people`}>People</h1>
        <table className="directory">
          <thead>
            <tr>
              <th scope="col">Name</th>
              <th scope="col">Roles</th>
              <th scope="col">Manager</th>
              <th scope="col">Availability</th>
              <th scope="col">Tokens</th>
              <th scope="col">
                <span className="visually-hidden">Manage</span>
              </th>
            </tr>
          </thead>
          <tbody>
            {data.users.map((u) => {
              const panel = `${panelIds}-user-${u.id}`
              const open = openUser === u.id
              return [
                <tr key={u.id} className={open ? 'open' : undefined}>
                  <th scope="row">
                    {u.name}
                    <br />
                    <small className="muted">{u.email}</small>
                  </th>
                  <td data-label="Roles">{u.roles.map((r) => r.name).join(', ')}</td>
                  <td data-label="Manager">{u.manager?.name ?? <span className="muted">None</span>}</td>
                  <td data-label="Availability" className={u.available ? undefined : 'away'}>
                    {availabilityText(u)}
                  </td>
                  <td data-label="Tokens">{tokenSummary(u.apiTokens)}</td>
                  <td>
                    <ManageButton name={u.name} open={open} controls={panel} onToggle={() => setOpenUser(open ? null : u.id)} />
                  </td>
                </tr>,
                open && (
                  <tr key={`${u.id}-panel`} className="panel-row">
                    <td colSpan={6}>
                      <PersonPanel id={panel} user={u} users={data.users} roles={data.roles} />
                    </td>
                  </tr>
                ),
              ]
            })}
          </tbody>
        </table>
        <form className="inline add" onSubmit={addUser} aria-label="Add a person">
          <input placeholder="Name" aria-label="Name" value={user.name} onChange={(e) => setUser({ ...user, name: e.target.value })} required />
          <input placeholder="Email" aria-label="Email" type="email" value={user.email} onChange={(e) => setUser({ ...user, email: e.target.value })} required />
          <CheckboxGroup legend="Roles" options={data.roles.map((r) => ({ value: r.key, label: r.name }))} selected={user.roleKeys} onChange={(roleKeys) => setUser({ ...user, roleKeys })} />
          <PersonSelect aria-label="Manager" value={user.managerId} onChange={(managerId) => setUser({ ...user, managerId })} people={data.users} none="No manager" />
          <button type="submit" disabled={createUserState.fetching}>
            Add person
          </button>
          {createUserState.error && (
            <span className="error" role="alert">
              {message(createUserState.error)}
            </span>
          )}
        </form>
      </section>
      <section aria-labelledby={`${panelIds}-agents`}>
        <h1 id={`${panelIds}-agents`}>Agents</h1>
        {data.agents.length === 0 ? (
          <p className="state empty">No agent yet.</p>
        ) : (
          <table className="directory">
            <thead>
              <tr>
                <th scope="col">Name</th>
                <th scope="col">Owner</th>
                <th scope="col">Status</th>
                <th scope="col">Acts for</th>
                <th scope="col">Tokens</th>
                <th scope="col">
                  <span className="visually-hidden">Manage</span>
                </th>
              </tr>
            </thead>
            <tbody>
              {data.agents.map((a) => {
                const panel = `${panelIds}-agent-${a.id}`
                const open = openAgent === a.id
                return [
                  <tr key={a.id} className={[open ? 'open' : '', a.enabled ? '' : 'disabled'].join(' ').trim() || undefined}>
                    <th scope="row">
                      {a.name}
                      {a.description && (
                        <>
                          <br />
                          <small className="muted">{a.description}</small>
                        </>
                      )}
                    </th>
                    <td data-label="Owner">{a.owner?.name ?? <span className="muted">None</span>}</td>
                    <td data-label="Status">{a.enabled ? 'Enabled' : <strong className="off">Disabled</strong>}</td>
                    <td data-label="Acts for">{a.actsFor.length ? a.actsFor.map((u) => u.name).join(', ') : <span className="muted">Its owner only</span>}</td>
                    <td data-label="Tokens">{tokenSummary(a.apiTokens)}</td>
                    <td>
                      <ManageButton name={a.name} open={open} controls={panel} onToggle={() => setOpenAgent(open ? null : a.id)} />
                    </td>
                  </tr>,
                  open && (
                    <tr key={`${a.id}-panel`} className="panel-row">
                      <td colSpan={6}>
                        <AgentPanel id={panel} agent={a} users={data.users} />
                      </td>
                    </tr>
                  ),
                ]
              })}
            </tbody>
          </table>
        )}
        <form className="inline add" onSubmit={addAgent} aria-label="Add an agent">
          <input placeholder="Agent name" aria-label="Agent name" value={agent.name} onChange={(e) => setAgent({ ...agent, name: e.target.value })} required />
          <PersonSelect aria-label="Owner" value={agent.ownerId} onChange={(ownerId) => setAgent({ ...agent, ownerId })} people={data.users} none="Owned by me" />
          <input placeholder="What it does" aria-label="Description" value={agent.description} onChange={(e) => setAgent({ ...agent, description: e.target.value })} />
          <button type="submit" disabled={createAgentState.fetching}>
            Add agent
          </button>
          {createAgentState.error && (
            <span className="error" role="alert">
              {message(createAgentState.error)}
            </span>
          )}
        </form>
      </section>
    </div>
  )
}
