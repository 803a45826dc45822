// A decision on several requests, shown before it is made: every request it would decide, the ones
// the reviewer has not opened and the risky ones first (lib/risks.ts), and a confirmation whose safe
// answer has the focus when any of them calls for care. The requests are read again for it: the
// inbox's list does not carry their params and context.
import { useCallback } from 'react'
import { useClient } from 'urql'
import { Link } from 'wouter'
import { graphql } from '../gql'
import { risksOf, type Risk } from '../lib/risks'
import { ConfirmDialog } from '../pages/People'

const RequestRiskQuery = graphql(`
  query RequestRisk($id: ID!) {
    approvalRequest(id: $id) {
      id
      actionType
      params
      context
      edited
      approvedParams
      proposedOwner {
        id
        name
      }
      record {
        id
        owner {
          id
          name
        }
      }
    }
  }
`)

/** One request of a decision on several, as the confirmation lists it. */
export interface BulkItem {
  id: string
  title: string
  /** Whether the reviewer has looked at it in this tab (its detail on screen for a moment). */
  opened: boolean
  risks: Risk[]
}

/** What calls for care in a request that could not be read: it is not waved through as harmless. */
const UNREAD: Risk = { kind: 'destructive', text: 'Could not be read here: open it to see what it does' }

/**
 * Reads the requests of a decision on several (one small query each, in parallel) and says of
 * each what calls for care: the params as they would run (an earlier stage's edit, if any).
 */
export function useBulkReview(): (rows: { id: string; title: string }[], opened: ReadonlySet<string>) => Promise<BulkItem[]> {
  const client = useClient()
  return useCallback(
    async (rows, opened) => {
      const results = await Promise.all(rows.map((r) => client.query(RequestRiskQuery, { id: r.id }, { requestPolicy: 'network-only' }).toPromise()))
      return rows.map((row, i) => {
        const request = results[i]?.data?.approvalRequest
        const risks = request ? risksOf({ ...request, params: request.edited && request.approvedParams != null ? request.approvedParams : request.params }) : [UNREAD]
        return { id: row.id, title: row.title, opened: opened.has(row.id), risks }
      })
    },
    [client],
  )
}

/**
 * The confirmation of a decision on several: what will be decided, the risky ones first, then
 * those not opened, then the rest; each a link to open it instead.
 */
export function BulkDecisionDialog({ verb, items, onConfirm, onCancel }: { verb: 'approve' | 'reject'; items: BulkItem[]; onConfirm: () => void; onCancel: () => void }) {
  const risky = items.filter((i) => i.risks.length > 0)
  const unopened = items.filter((i) => !i.opened)
  const ordered = [...risky, ...items.filter((i) => !i.risks.length && !i.opened), ...items.filter((i) => !i.risks.length && i.opened)]
  const Verb = verb === 'approve' ? 'Approve' : 'Reject'
  const n = items.length
  return (
    <ConfirmDialog
      title={`${Verb} ${n} request${n === 1 ? '' : 's'}?`}
      confirmLabel={`${Verb} ${n}`}
      destructive={risky.length + unopened.length > 0}
      busy={false}
      onConfirm={onConfirm}
      onCancel={onCancel}
    >
      <div className="bulk-review">
        {unopened.length > 0 && <p>{n === 1 ? 'You have not opened it.' : `You have not opened ${unopened.length === n ? 'any' : unopened.length} of them.`}</p>}
        {risky.length > 0 && (
          <p>
            <strong>
              {n === 1 ? 'It carries a risk: look at it first.' : `${risky.length === n ? 'All' : risky.length} of them carry a risk: look at them first.`}
            </strong>
          </p>
        )}
        <ul aria-label={`Requests to ${verb}`}>
          {ordered.map((item) => (
            <li key={item.id} className={item.risks.length ? 'risky' : undefined}>
              <Link href={`/inbox/${encodeURIComponent(item.id)}`} onClick={onCancel}>
                {item.title}
              </Link>
              {(item.risks.length > 0 || !item.opened) && (
                <ul className="notes">
                  {item.risks.map((r) => (
                    <li key={r.text} className={`risk ${r.kind}`}>
                      {r.text}
                    </li>
                  ))}
                  {!item.opened && <li className="unopened">Not opened</li>}
                </ul>
              )}
            </li>
          ))}
        </ul>
        <p className="muted">Every decision can still be undone for a few seconds once made.</p>
      </div>
    </ConfirmDialog>
  )
}
