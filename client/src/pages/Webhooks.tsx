// Webhooks (approval:manage): the endpoints that approval events are sent to, each with the
// events it wants; a new endpoint's signing secret, shown once; and each endpoint's deliveries,
// with a test event to try it and a way to send any delivery again.
import { FormFeedback } from '../components/FormFeedback'
import { useEffect, useId, useMemo, useState, type FormEvent } from 'react'
import { Link, useLocation } from 'wouter'
import { useMutation, useQuery } from 'urql'
import { WebhookDeliveries, eventName } from '../components/WebhookDeliveries'
import { graphql } from '../gql'
import type { WebhookEventType } from '../gql/graphql'
import { errorMessage, formatDateTime } from '../lib/format'
import { ConfirmDialog } from './People'
import '../styles/webhooks.css'

const EndpointsQuery = graphql(`
  query WebhookEndpoints {
    webhookEndpoints {
      id
      url
      description
      events
      enabled
      createdAt
    }
  }
`)

const EndpointQuery = graphql(`
  query WebhookEndpoint($id: ID!) {
    webhookEndpoint(id: $id) {
      id
      url
      description
      events
      enabled
      deliveries(first: 50) {
        edges {
          node {
            id
            status
            ...WebhookDeliveryRow
          }
        }
      }
    }
  }
`)

const CreateEndpoint = graphql(`
  mutation CreateWebhookEndpoint($input: WebhookEndpointInput!) {
    createWebhookEndpoint(input: $input) {
      secret
      endpoint {
        id
        url
      }
    }
  }
`)

const UpdateEndpoint = graphql(`
  mutation UpdateWebhookEndpoint($id: ID!, $input: WebhookEndpointInput!) {
    updateWebhookEndpoint(id: $id, input: $input) {
      id
      url
      description
      events
      enabled
    }
  }
`)

const DeleteEndpoint = graphql(`
  mutation DeleteWebhookEndpoint($id: ID!) {
    deleteWebhookEndpoint(id: $id)
  }
`)

const SendTest = graphql(`
  mutation SendTestWebhook($id: ID!) {
    sendTestWebhook(id: $id) {
      id
      status
    }
  }
`)

/** The events an endpoint may want, in the API's order, with what each reports. */
const EVENTS: { value: WebhookEventType; says: string }[] = [
  { value: 'APPROVAL_REQUESTED', says: 'a rule gated an action: a new request' },
  { value: 'APPROVAL_ESCALATED', says: 'a request went to its fallback reviewers' },
  { value: 'APPROVAL_DECIDED', says: 'approved or rejected, in its last stage' },
  { value: 'APPROVAL_EXPIRED', says: 'nobody decided before the deadline' },
  { value: 'APPROVAL_CANCELLED', says: 'the requester or a manager withdrew it' },
  { value: 'EXECUTION_FINISHED', says: 'the approved action ran, or failed for good' },
]

const refresh = { additionalTypenames: ['WebhookEndpoint', 'WebhookDelivery'] }

interface Draft {
  url: string
  description: string
  events: WebhookEventType[]
  enabled: boolean
}

/** The endpoint's URL, description, events and switch: for a new endpoint and for an existing one. */
function EndpointForm(props: { initial: Draft; label: string; submitLabel: string; busy: boolean; error?: string; onSubmit: (draft: Draft) => void }) {
  const [draft, setDraft] = useState(props.initial)
  const [problem, setProblem] = useState('')
  const ids = useId()
  function submit(e: FormEvent) {
    e.preventDefault()
    if (draft.events.length === 0) return setProblem('Choose at least one event.')
    setProblem('')
    props.onSubmit({ ...draft, url: draft.url.trim(), description: draft.description.trim() })
  }
  const error = problem || props.error
  return (
    <form className="endpoint-form" aria-label={props.label} onSubmit={submit}>
      <label htmlFor={`${ids}-url`}>URL</label>
      <input
        id={`${ids}-url`}
        type="url"
        required
        maxLength={2000}
        placeholder="https://example.com/webhooks/approvals"
        value={draft.url}
        onChange={(e) => setDraft({ ...draft, url: e.target.value })}
        aria-describedby={`${ids}-url-hint`}
      />
      <p id={`${ids}-url-hint`} className="hint">
        https:// only (plain http:// and private networks only where the server allows them). Redirects are not followed.
      </p>
      <label htmlFor={`${ids}-description`}>Description (optional)</label>
      <input id={`${ids}-description`} maxLength={500} value={draft.description} onChange={(e) => setDraft({ ...draft, description: e.target.value })} />
      <fieldset className="events">
        <legend>Events it wants</legend>
        {EVENTS.map((e) => (
          <label key={e.value} className="check">
            <input
              type="checkbox"
              checked={draft.events.includes(e.value)}
              onChange={(ev) => setDraft({ ...draft, events: ev.target.checked ? [...draft.events, e.value] : draft.events.filter((v) => v !== e.value) })}
            />
            <span>
              <code>{eventName(e.value)}</code> <span className="muted">{e.says}</span>
            </span>
          </label>
        ))}
      </fieldset>
      <label className="check">
        <input type="checkbox" checked={draft.enabled} onChange={(e) => setDraft({ ...draft, enabled: e.target.checked })} />
        Enabled (a disabled endpoint gets no new deliveries; pending ones wait)
      </label>
      {error && (
        <p className="error" role="alert">
          {error}
        </p>
      )}
      <div className="buttons">
        <button type="submit" className="primary" disabled={props.busy}>
          {props.busy ? 'Saving…' : props.submitLabel}
        </button>
      </div>
    </form>
  )
}

/** A new endpoint's signing secret, shown once, with a copy button. */
function SecretShownOnce({ secret, url, onDone }: { secret: string; url: string; onDone: () => void }) {
  const [copied, setCopied] = useState(false)
  const headingId = useId()
  return (
    <section className="secret" aria-labelledby={headingId}>
      <h2 id={headingId}>Store the signing secret</h2>
      <p>
        Deliveries to <code>{url}</code> are signed with this secret (Standard Webhooks: verify them with the <code>standardwebhooks</code> library). It is shown
        once: store it now.
      </p>
      <div className="token">
        <code aria-label="Signing secret">{secret}</code>
        <button type="button" onClick={() => void navigator.clipboard?.writeText(secret).then(() => setCopied(true))}>
          {copied ? 'Copied' : 'Copy'}
        </button>
      </div>
      <div className="buttons">
        <button type="button" className="primary" onClick={onDone}>
          I have stored it
        </button>
      </div>
    </section>
  )
}

function NewEndpoint() {
  const [, navigate] = useLocation()
  const [state, create] = useMutation(CreateEndpoint)
  const [created, setCreated] = useState<{ id: string; url: string; secret: string } | null>(null)
  if (created) return <SecretShownOnce secret={created.secret} url={created.url} onDone={() => navigate(`/webhooks/${encodeURIComponent(created.id)}`)} />
  return (
    <>
      <h2>New endpoint</h2>
      <EndpointForm
        label="New endpoint"
        submitLabel="Create endpoint"
        initial={{ url: '', description: '', events: EVENTS.map((e) => e.value), enabled: true }}
        busy={state.fetching}
        error={state.error && errorMessage(state.error)}
        onSubmit={async (draft) => {
          const res = await create({ input: { ...draft, description: draft.description || null } }, refresh)
          if (res.data) setCreated({ ...res.data.createWebhookEndpoint.endpoint, secret: res.data.createWebhookEndpoint.secret })
        }}
      />
    </>
  )
}

function EndpointDetail({ id }: { id: string }) {
  const [, navigate] = useLocation()
  // the deliveries list refetches when a delivery is written (a test event, a redelivery), even while it is empty
  const context = useMemo(() => ({ additionalTypenames: ['WebhookDelivery'] }), [])
  const [{ data, fetching, error }, reexecute] = useQuery({ query: EndpointQuery, variables: { id }, context })
  const [updateState, update] = useMutation(UpdateEndpoint)
  const [testState, sendTest] = useMutation(SendTest)
  const [deleteState, remove] = useMutation(DeleteEndpoint)
  const [confirming, setConfirming] = useState(false)
  const [status, setStatus] = useState('')
  const endpoint = data?.webhookEndpoint
  const deliveries = endpoint?.deliveries.edges.map((e) => e.node) ?? []
  const pending = deliveries.some((d) => d.status === 'PENDING')
  // while something waits to be sent, follow how it goes
  useEffect(() => {
    if (!pending) return
    const timer = setInterval(() => reexecute({ requestPolicy: 'network-only' }), 1500)
    return () => clearInterval(timer)
  }, [pending, reexecute])

  if (error) return <p className="state error">Could not load the endpoint: {errorMessage(error)}</p>
  if (fetching && !data) return <p className="state">Loading…</p>
  if (!endpoint) return <p className="state">No such endpoint: it may have been deleted.</p>

  async function test() {
    const res = await sendTest({ id }, refresh)
    if (!res.error) setStatus('A test event (webhook.test) is on its way; its delivery is listed below.')
  }
  async function confirmDelete() {
    const res = await remove({ id }, refresh)
    if (res.error) return
    setConfirming(false)
    navigate('/webhooks')
  }

  return (
    <>
      <h2>{endpoint.description || endpoint.url}</h2>
      <EndpointForm
        key={`${endpoint.url}|${endpoint.description}|${endpoint.events.join()}|${endpoint.enabled}`}
        label={`Settings of ${endpoint.url}`}
        submitLabel="Save endpoint"
        initial={{ url: endpoint.url, description: endpoint.description ?? '', events: [...endpoint.events], enabled: endpoint.enabled }}
        busy={updateState.fetching}
        error={updateState.error && errorMessage(updateState.error)}
        onSubmit={async (draft) => {
          const res = await update({ id, input: { ...draft, description: draft.description || null } }, refresh)
          if (res.data) setStatus('Saved.')
        }}
      />
      <div className="buttons">
        <button type="button" disabled={testState.fetching || !endpoint.enabled} onClick={() => void test()}>
          Send a test event
        </button>
        {!endpoint.enabled && <span className="hint">Enable it to send.</span>}
      </div>
      <FormFeedback error={testState.error} status={status} />
      <h3>Deliveries</h3>
      <p className="hint">
        The 50 latest. A failed attempt is tried again after 5 s, 20 s, 80 s, then ever longer, ten attempts over about a day.
      </p>
      <WebhookDeliveries deliveries={deliveries} endpointUrl={endpoint.url} />
      <div className="danger-zone">
        <button type="button" className="danger" onClick={() => setConfirming(true)}>
          Delete endpoint…
        </button>
      </div>
      {confirming && (
        <ConfirmDialog
          title={`Delete the endpoint ${endpoint.url}?`}
          confirmLabel="Delete endpoint"
          destructive
          busy={deleteState.fetching}
          error={deleteState.error && errorMessage(deleteState.error)}
          onConfirm={() => void confirmDelete()}
          onCancel={() => setConfirming(false)}
        >
          <p>It gets no more events, and its deliveries and their history are deleted. Its secret cannot be restored.</p>
        </ConfirmDialog>
      )}
    </>
  )
}

export function WebhooksPage({ selectedId }: { selectedId?: string }) {
  // refetched when an endpoint is created, even into an empty list (which names no WebhookEndpoint to invalidate)
  const context = useMemo(() => ({ additionalTypenames: ['WebhookEndpoint'] }), [])
  const [{ data, fetching, error }] = useQuery({ query: EndpointsQuery, context })
  const endpoints = data?.webhookEndpoints
  return (
    <div className={`webhooks split ${selectedId ? 'has-detail' : ''}`}>
      <section className="list wide" aria-label="Webhook endpoints">
        <h1>
          Webhooks
          <Link href="/webhooks/new" className="button">
            New endpoint
          </Link>
        </h1>
        <p className="hint">Approval events are sent to these endpoints as they happen, signed (Standard Webhooks), and retried for about a day.</p>
        {error && <p className="state error">Could not load the endpoints: {errorMessage(error)}</p>}
        {fetching && !endpoints && <p className="state">Loading…</p>}
        {endpoints?.length === 0 && <p className="state empty">No endpoint yet: nothing is sent. Add one to tell another system what happens.</p>}
        <ul className="endpoints">
          {endpoints?.map((e) => (
            <li key={e.id} className={`${e.id === selectedId ? 'selected' : ''} ${e.enabled ? '' : 'disabled'}`}>
              <Link href={`/webhooks/${encodeURIComponent(e.id)}`} aria-current={e.id === selectedId ? 'page' : undefined}>
                <strong>{e.url}</strong>
              </Link>
              {!e.enabled && <span className="endpoint-off">Disabled</span>}
              <p className="meta">
                {e.description && <>{e.description} · </>}
                {e.events.map(eventName).join(', ')} · since {formatDateTime(e.createdAt)}
              </p>
            </li>
          ))}
        </ul>
      </section>
      {selectedId && (
        <section className="detail" aria-label={selectedId === 'new' ? 'New webhook endpoint' : 'Webhook endpoint'}>
          <Link href="/webhooks" className="close">
            Close
          </Link>
          {selectedId === 'new' ? <NewEndpoint /> : <EndpointDetail key={selectedId} id={selectedId} />}
        </section>
      )}
    </div>
  )
}
