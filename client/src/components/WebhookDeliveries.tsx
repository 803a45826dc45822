// The deliveries of one webhook endpoint: what was sent, how it went, when it is tried next, the
// payload as sent, and a way to send it again.
import { FormFeedback } from './FormFeedback'
import { Fragment, useId, useState } from 'react'
import { useMutation } from 'urql'
import { getFragmentData, graphql, type FragmentType } from '../gql'
import { formatDateTime } from '../lib/format'

export const WebhookDeliveryRow = graphql(`
  fragment WebhookDeliveryRow on WebhookDelivery {
    id
    eventType
    status
    attempts
    lastStatusCode
    lastError
    lastAttemptAt
    nextAttemptAt
    createdAt
    payload
  }
`)

const Redeliver = graphql(`
  mutation RedeliverWebhook($id: ID!) {
    redeliverWebhook(deliveryId: $id) {
      ...WebhookDeliveryRow
    }
  }
`)

/** APPROVAL_REQUESTED is "approval.requested", as the payload's type says it. */
export const eventName = (type: string) => type.toLowerCase().replace('_', '.')

const STATUS_LABEL: Record<string, string> = { PENDING: 'Pending', SUCCEEDED: 'Succeeded', FAILED: 'Failed' }

/** The last answer in words: its status code, or what went wrong. */
function lastOutcome(d: { lastStatusCode?: number | null; lastError?: string | null; attempts: number }) {
  if (d.attempts === 0) return <span className="muted">Not sent yet</span>
  return (
    <>
      {d.lastStatusCode != null && <span className="code">HTTP {d.lastStatusCode}</span>}
      {d.lastError && <span className="delivery-error">{d.lastError}</span>}
    </>
  )
}

export function WebhookDeliveries({ deliveries: masked, endpointUrl }: { deliveries: readonly FragmentType<typeof WebhookDeliveryRow>[]; endpointUrl: string }) {
  const deliveries = getFragmentData(WebhookDeliveryRow, masked)
  const [open, setOpen] = useState<string | null>(null)
  const [state, redeliver] = useMutation(Redeliver)
  const [status, setStatus] = useState('')
  const ids = useId()
  if (deliveries.length === 0) return <p className="state empty">No delivery yet. Send a test event, or wait for the next approval event it wants.</p>
  async function again(id: string, event: string) {
    const res = await redeliver({ id }, { additionalTypenames: ['WebhookDelivery'] })
    if (!res.error) setStatus(`${event} is sent again.`)
  }
  return (
    <>
      <table className="deliveries">
        <caption className="visually-hidden">Deliveries to {endpointUrl}, newest first</caption>
        <thead>
          <tr>
            <th scope="col">Event</th>
            <th scope="col">Status</th>
            <th scope="col">Attempts</th>
            <th scope="col">Last answer</th>
            <th scope="col">Next attempt</th>
            <th scope="col">Created</th>
            <th scope="col">
              <span className="visually-hidden">Actions</span>
            </th>
          </tr>
        </thead>
        <tbody>
          {deliveries.map((d) => {
            const event = eventName(d.eventType)
            const payloadId = `${ids}-${d.id}`
            const shown = open === d.id
            return (
              <Fragment key={d.id}>
                <tr>
                  <th scope="row">
                    <code>{event}</code>
                  </th>
                  <td data-label="Status">
                    <span className={`status delivery-${d.status.toLowerCase()}`}>{STATUS_LABEL[d.status] ?? d.status}</span>
                  </td>
                  <td data-label="Attempts">{d.attempts}</td>
                  <td data-label="Last answer">{lastOutcome(d)}</td>
                  <td data-label="Next attempt">{d.nextAttemptAt ? <time dateTime={d.nextAttemptAt}>{formatDateTime(d.nextAttemptAt)}</time> : <span className="muted">None</span>}</td>
                  <td data-label="Created">
                    <time dateTime={d.createdAt}>{formatDateTime(d.createdAt)}</time>
                  </td>
                  <td className="actions">
                    <button type="button" aria-expanded={shown} aria-controls={shown ? payloadId : undefined} onClick={() => setOpen(shown ? null : d.id)}>
                      Payload
                      <span className="visually-hidden"> of {event}</span>
                    </button>
                    <button type="button" disabled={state.fetching} onClick={() => void again(d.id, event)}>
                      Redeliver
                      <span className="visually-hidden"> {event}</span>
                    </button>
                  </td>
                </tr>
                {shown && (
                  <tr className="payload-row">
                    <td colSpan={7}>
                      <pre id={payloadId} className="json" aria-label={`Payload of ${event}`} tabIndex={0}>
                        {JSON.stringify(d.payload, null, 2)}
                      </pre>
                    </td>
                  </tr>
                )}
              </Fragment>
            )
          })}
        </tbody>
      </table>
      <FormFeedback error={state.error} status={status} />
    </>
  )
}
