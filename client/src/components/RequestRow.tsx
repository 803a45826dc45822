// A request as one line of a list: the inbox's list items and the history's table rows read the
// same fragment, so both show a request the same way (its title, who asked, for whom, the rule).
import type { ResultOf } from '@graphql-typed-document-node/core'
import type { ReactNode } from 'react'
import { Link } from 'wouter'
import { graphql } from '../gql'
import { formatDateTime, humanize, timeLeft } from '../lib/format'

export const RequestRowFields = graphql(`
  fragment RequestRow on ApprovalRequest {
    id
    status
    actionType
    summary
    createdAt
    expiresAt
    decidedAt
    escalated
    requester {
      __typename
      id
      name
    }
    onBehalfOf {
      id
      name
    }
    rule {
      id
      name
    }
  }
`)

export type RequestRowData = ResultOf<typeof RequestRowFields>

/** What a request is called: its summary, else its action ("Send email"). */
export const requestTitle = (r: Pick<RequestRowData, 'summary' | 'actionType'>) => r.summary ?? humanize(r.actionType)

/** How close a request's deadline is: under 5 minutes is urgent, under an hour soon. */
export function urgencyOf(expiresAt: string | null | undefined, now: Date): '' | 'urgent' | 'soon' {
  if (!expiresAt) return ''
  const left = new Date(expiresAt).getTime() - now.getTime()
  return left < 5 * 60_000 ? 'urgent' : left < 3600_000 ? 'soon' : ''
}

/** Whether a row matches the inbox's filter: for rows that live events bring, which the server has not filtered. */
export function rowMatches(r: RequestRowData, filter: { text?: string | null; actionType?: string | null; requesterId?: string | null; onBehalfOfId?: string | null; ruleId?: string | null }) {
  if (filter.actionType && r.actionType !== filter.actionType) return false
  if (filter.requesterId && r.requester.id !== filter.requesterId) return false
  if (filter.onBehalfOfId && r.onBehalfOf?.id !== filter.onBehalfOfId) return false
  if (filter.ruleId && r.rule?.id !== filter.ruleId) return false
  const words = (filter.text ?? '').trim().toLowerCase().split(/\s+/).filter(Boolean)
  const text = [r.summary, r.actionType, r.requester.name, r.onBehalfOf?.name, r.rule?.name].join(' ').toLowerCase()
  return words.every((w) => text.includes(w))
}

/** One request of the inbox: a link to its detail, with a box to select it for a decision on several. */
export function InboxListItem({
  row: r,
  now,
  selected,
  unread,
  arrived,
  picked,
  onPick,
}: {
  row: RequestRowData
  now: Date
  selected: boolean
  unread: boolean
  arrived: boolean
  picked: boolean
  onPick: (id: string) => void
}) {
  const left = timeLeft(r.expiresAt, now)
  const classes = [selected && 'selected', unread && 'unread', arrived && unread && 'arrived', urgencyOf(r.expiresAt, now)].filter(Boolean).join(' ')
  return (
    <li className={classes}>
      <input type="checkbox" className="pick" aria-label={`Select ${requestTitle(r)}`} checked={picked} onChange={() => onPick(r.id)} />
      <Link href={`/inbox/${encodeURIComponent(r.id)}`} data-request-id={r.id}>
        <span className="action">{humanize(r.actionType)}</span>
        <span className="summary">{r.summary ?? <span className="muted">No summary</span>}</span>
        <span className="meta">
          {r.requester.name}
          {r.onBehalfOf && <> for {r.onBehalfOf.name}</>}
          {r.rule && <> · {r.rule.name}</>}
          {r.escalated && <> · escalated</>}
        </span>
        {left && <span className={`left ${left === 'expired' ? 'late' : ''}`}>{left === 'expired' ? 'expired' : `expires ${left}`}</span>}
      </Link>
    </li>
  )
}

/** One request of the history table; `status` and `decidedBy` cells come from the page (it adds the execution). */
export function HistoryTableRow({ row: r, selected, onOpen, status, decidedBy }: { row: RequestRowData; selected: boolean; onOpen: (id: string) => void; status: ReactNode; decidedBy: ReactNode }) {
  return (
    <tr className={selected ? 'selected' : undefined} onClick={() => onOpen(r.id)}>
      <td>{formatDateTime(r.createdAt)}</td>
      <td>{humanize(r.actionType)}</td>
      <td>
        <button type="button" className="link" onClick={() => onOpen(r.id)}>
          {requestTitle(r)}
        </button>
      </td>
      <td>{r.requester.name}</td>
      <td>{r.onBehalfOf?.name ?? '—'}</td>
      <td>{r.rule?.name ?? '—'}</td>
      <td>{status}</td>
      <td>{decidedBy}</td>
    </tr>
  )
}
