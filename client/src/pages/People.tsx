import { useState, type FormEvent } from 'react'
import { useMutation, useQuery } from 'urql'
import { graphql } from '../gql'

const PeopleQuery = graphql(`
  query People {
    users {
      id
      name
      email
      available
      roles {
        key
        name
      }
      manager {
        id
        name
      }
    }
    agents {
      id
      name
      description
      owner {
        id
        name
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

const CreateToken = graphql(`
  mutation CreateToken($principalId: ID!, $name: String!) {
    createApiToken(principalId: $principalId, name: $name) {
      token
    }
  }
`)

const refresh = { additionalTypenames: ['User', 'Agent'] }
const message = (error: { graphQLErrors: { message: string }[]; message: string } | undefined) => error && (error.graphQLErrors[0]?.message ?? error.message)

/** A token, shown once, with a copy button. */
function TokenButton({ principalId, name }: { principalId: string; name: string }) {
  const [state, create] = useMutation(CreateToken)
  const [copied, setCopied] = useState(false)
  const token = state.data?.createApiToken.token
  if (token) {
    return (
      <span className="token">
        <code aria-label={`New token for ${name}`}>{token}</code>
        <button
          type="button"
          onClick={() => void navigator.clipboard?.writeText(token).then(() => setCopied(true))}
        >
          {copied ? 'Copied' : 'Copy'}
        </button>
        <small>Shown once: store it now.</small>
      </span>
    )
  }
  return (
    <>
      <button type="button" className="link" disabled={state.fetching} onClick={() => void create({ principalId, name: `Issued in the inbox for ${name}` })}>
        New token
      </button>
      {state.error && <span className="error">{message(state.error)}</span>}
    </>
  )
}

export function PeoplePage() {
  const [{ data, fetching, error }] = useQuery({ query: PeopleQuery })
  const [createUserState, createUser] = useMutation(CreateUser)
  const [updateState, updateUser] = useMutation(UpdateUser)
  const [createAgentState, createAgent] = useMutation(CreateAgent)
  const [user, setUser] = useState({ name: '', email: '', roleKey: 'member', managerId: '' })
  const [agent, setAgent] = useState({ name: '', ownerId: '', description: '' })

  if (error) return <p className="state error">Could not load people: {error.message}</p>
  if (fetching && !data) return <p className="state">Loading…</p>
  if (!data) return null

  async function addUser(e: FormEvent) {
    e.preventDefault()
    const res = await createUser({ input: { name: user.name, email: user.email, roleKeys: [user.roleKey], managerId: user.managerId || null } }, refresh)
    if (!res.error) setUser({ name: '', email: '', roleKey: 'member', managerId: '' })
  }
  async function addAgent(e: FormEvent) {
    e.preventDefault()
    const res = await createAgent({ input: { name: agent.name, ownerId: agent.ownerId || null, description: agent.description || null } }, refresh)
    if (!res.error) setAgent({ name: '', ownerId: '', description: '' })
  }

  return (
    <div className="people">
      <section aria-label="People">
        <h1>People</h1>
        {updateState.error && <p className="error" role="alert">{message(updateState.error)}</p>}
        <table>
          <thead>
            <tr>
              <th>Name</th>
              <th>Roles</th>
              <th>Manager</th>
              <th>Available</th>
              <th>Token</th>
            </tr>
          </thead>
          <tbody>
            {data.users.map((u) => (
              <tr key={u.id}>
                <td>
                  {u.name}
                  <br />
                  <small className="muted">{u.email}</small>
                </td>
                <td>
                  <select
                    aria-label={`Role of ${u.name}`}
                    value={u.roles[0]?.key ?? ''}
                    onChange={(e) => void updateUser({ id: u.id, input: { roleKeys: [e.target.value] } }, refresh)}
                  >
                    {data.roles.map((r) => (
                      <option key={r.key} value={r.key}>
                        {r.name}
                      </option>
                    ))}
                  </select>
                  {u.roles.length > 1 && <small className="muted"> +{u.roles.slice(1).map((r) => r.name).join(', ')}</small>}
                </td>
                <td>
                  <select aria-label={`Manager of ${u.name}`} value={u.manager?.id ?? ''} onChange={(e) => void updateUser({ id: u.id, input: { managerId: e.target.value || null } }, refresh)}>
                    <option value="">None</option>
                    {data.users
                      .filter((m) => m.id !== u.id)
                      .map((m) => (
                        <option key={m.id} value={m.id}>
                          {m.name}
                        </option>
                      ))}
                  </select>
                </td>
                <td>
                  <input type="checkbox" aria-label={`${u.name} available`} checked={u.available} onChange={(e) => void updateUser({ id: u.id, input: { available: e.target.checked } }, refresh)} />
                </td>
                <td>
                  <TokenButton principalId={u.id} name={u.name} />
                </td>
              </tr>
            ))}
          </tbody>
        </table>
        <form className="inline" onSubmit={addUser} aria-label="Add a person">
          <input placeholder="Name" aria-label="Name" value={user.name} onChange={(e) => setUser({ ...user, name: e.target.value })} required />
          <input placeholder="Email" aria-label="Email" type="email" value={user.email} onChange={(e) => setUser({ ...user, email: e.target.value })} required />
          <select aria-label="Role" value={user.roleKey} onChange={(e) => setUser({ ...user, roleKey: e.target.value })}>
            {data.roles.map((r) => (
              <option key={r.key} value={r.key}>
                {r.name}
              </option>
            ))}
          </select>
          <select aria-label="Manager" value={user.managerId} onChange={(e) => setUser({ ...user, managerId: e.target.value })}>
            <option value="">No manager</option>
            {data.users.map((m) => (
              <option key={m.id} value={m.id}>
                {m.name}
              </option>
            ))}
          </select>
          <button type="submit" disabled={createUserState.fetching}>
            Add person
          </button>
          {createUserState.error && <span className="error" role="alert">{message(createUserState.error)}</span>}
        </form>
      </section>
      <section aria-label="Agents">
        <h1>Agents</h1>
        {data.agents.length === 0 && <p className="state empty">No agent yet.</p>}
        <table>
          <thead>
            <tr>
              <th>Name</th>
              <th>Owner</th>
              <th>Token</th>
            </tr>
          </thead>
          <tbody>
            {data.agents.map((a) => (
              <tr key={a.id}>
                <td>
                  {a.name}
                  {a.description && (
                    <>
                      <br />
                      <small className="muted">{a.description}</small>
                    </>
                  )}
                </td>
                <td>{a.owner?.name ?? <span className="muted">none</span>}</td>
                <td>
                  <TokenButton principalId={a.id} name={a.name} />
                </td>
              </tr>
            ))}
          </tbody>
        </table>
        <form className="inline" onSubmit={addAgent} aria-label="Add an agent">
          <input placeholder="Agent name" aria-label="Agent name" value={agent.name} onChange={(e) => setAgent({ ...agent, name: e.target.value })} required />
          <select aria-label="Owner" value={agent.ownerId} onChange={(e) => setAgent({ ...agent, ownerId: e.target.value })}>
            <option value="">Owned by me</option>
            {data.users.map((m) => (
              <option key={m.id} value={m.id}>
                {m.name}
              </option>
            ))}
          </select>
          <input placeholder="What it does" aria-label="Description" value={agent.description} onChange={(e) => setAgent({ ...agent, description: e.target.value })} />
          <button type="submit" disabled={createAgentState.fetching}>
            Add agent
          </button>
          {createAgentState.error && <span className="error" role="alert">{message(createAgentState.error)}</span>}
        </form>
      </section>
    </div>
  )
}
