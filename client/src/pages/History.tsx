import { useEffect, useMemo, useState } from 'react'
import { useQuery } from 'urql'
import { ExecutionStatus } from '../components/ExecutionStatus'
import { RequestDetail } from '../components/RequestDetail'
import { ActionFilter, PrincipalFilter, RuleFilter, useFilterOptions } from '../components/RequestFilters'
import { HistoryTableRow, RequestRowFields } from '../components/RequestRow'
import { getFragmentData, graphql } from '../gql'
import type { ApprovalHistoryFilter, ApprovalStatus } from '../gql/graphql'
import { errorMessage, humanize } from '../lib/format'
import { useSettled } from '../lib/hooks'

const HistoryQuery = graphql(`
  query History($filter: ApprovalHistoryFilter, $after: String) {
    approvalHistory(filter: $filter, first: 25, after: $after) {
      edges {
        node {
          ...RequestRow
          decidedBy {
            name
          }
          execution {
            ...ExecutionFields
          }
        }
      }
      pageInfo {
        hasNextPage
        endCursor
      }
    }
  }
`)

const STATUSES: ApprovalStatus[] = ['PENDING', 'APPROVED', 'REJECTED', 'EXPIRED', 'CANCELLED']

/** One page of history; the next page is a child of it, so "Load more" keeps what is shown. */
function Page({ filter, after, onOpen, selected }: { filter: ApprovalHistoryFilter; after: string | null; onOpen: (id: string) => void; selected: string | null }) {
  const [{ data, fetching, error }] = useQuery({ query: HistoryQuery, variables: { filter, after }, requestPolicy: 'cache-and-network' })
  const [more, setMore] = useState(false)
  if (error) return <p className="state error">Could not load the history: {errorMessage(error)}</p>
  if (!data) return fetching ? <p className="state">Loading…</p> : null
  const rows = data.approvalHistory.edges.map((e) => e.node)
  return (
    <>
      {after === null && rows.length === 0 && <p className="state empty">No request matches these filters.</p>}
      {rows.length > 0 && (
        <table className="history">
          {after === null && (
            <thead>
              <tr>
                <th>Created</th>
                <th>Action</th>
                <th>Summary</th>
                <th>Requester</th>
                <th>For</th>
                <th>Rule</th>
                <th>Status</th>
                <th>Decided by</th>
              </tr>
            </thead>
          )}
          <tbody>
            {rows.map((node) => {
              const r = getFragmentData(RequestRowFields, node)
              return (
                <HistoryTableRow
                  key={r.id}
                  row={r}
                  selected={r.id === selected}
                  onOpen={onOpen}
                  decidedBy={node.decidedBy?.name ?? ''}
                  status={
                    <>
                      <span className={`status ${r.status.toLowerCase()}`}>{humanize(r.status)}</span>
                      {node.execution && (
                        <p className="run">
                          <ExecutionStatus execution={node.execution} />
                        </p>
                      )}
                    </>
                  }
                />
              )
            })}
          </tbody>
        </table>
      )}
      {data.approvalHistory.pageInfo.hasNextPage &&
        (more ? (
          <Page filter={filter} after={data.approvalHistory.pageInfo.endCursor ?? null} onOpen={onOpen} selected={selected} />
        ) : (
          <button type="button" onClick={() => setMore(true)}>
            Load more
          </button>
        ))}
    </>
  )
}

/** The filters, kept in the address (?status=APPROVED&text=...#/history), so a filtered view can be shared and survives a reload. */
interface Filters {
  statuses: ApprovalStatus[]
  actionType: string
  ruleId: string
  requesterId: string
  onBehalfOfId: string
  decidedById: string
  from: string
  to: string
  text: string
}

function filtersFromUrl(): Filters {
  const query = new URLSearchParams(window.location.search)
  const get = (key: string) => query.get(key) ?? ''
  return {
    statuses: query.getAll('status').filter((s): s is ApprovalStatus => (STATUSES as string[]).includes(s)),
    actionType: get('action'),
    ruleId: get('rule'),
    requesterId: get('requester'),
    onBehalfOfId: get('for'),
    decidedById: get('decidedBy'),
    from: get('from'),
    to: get('to'),
    text: get('text'),
  }
}

function filtersToUrl(f: Filters) {
  const query = new URLSearchParams()
  f.statuses.forEach((s) => query.append('status', s))
  const pairs: [string, string][] = [
    ['action', f.actionType],
    ['rule', f.ruleId],
    ['requester', f.requesterId],
    ['for', f.onBehalfOfId],
    ['decidedBy', f.decidedById],
    ['from', f.from],
    ['to', f.to],
    ['text', f.text],
  ]
  for (const [key, value] of pairs) if (value) query.set(key, value)
  const search = query.toString()
  window.history.replaceState(window.history.state, '', `${window.location.pathname}${search ? `?${search}` : ''}${window.location.hash}`)
}

export function HistoryPage() {
  const options = useFilterOptions()
  const [filters, setFilters] = useState<Filters>(filtersFromUrl)
  const { statuses, actionType, ruleId, requesterId, onBehalfOfId, decidedById, from, to } = filters
  const set = <K extends keyof Filters>(key: K) => (value: Filters[K]) => setFilters((f) => ({ ...f, [key]: value }))
  const [setStatuses, setActionType, setRuleId, setRequesterId, setOnBehalfOfId, setDecidedById, setFrom, setTo, setText] = [
    (update: (prev: ApprovalStatus[]) => ApprovalStatus[]) => setFilters((f) => ({ ...f, statuses: update(f.statuses) })),
    set('actionType'),
    set('ruleId'),
    set('requesterId'),
    set('onBehalfOfId'),
    set('decidedById'),
    set('from'),
    set('to'),
    set('text'),
  ] as const
  const text = useSettled(filters.text.trim())
  useEffect(() => filtersToUrl(filters), [filters])
  const [selected, setSelected] = useState<string | null>(null)
  const filter = useMemo<ApprovalHistoryFilter>(
    () => ({
      ...(statuses.length ? { status: statuses } : {}),
      ...(actionType ? { actionType } : {}),
      ...(ruleId ? { ruleId } : {}),
      ...(requesterId ? { requesterId } : {}),
      ...(onBehalfOfId ? { onBehalfOfId } : {}),
      ...(decidedById ? { decidedById } : {}),
      ...(text ? { text } : {}),
      ...(from ? { createdAfter: new Date(`${from}T00:00:00`).toISOString() } : {}),
      ...(to ? { createdBefore: new Date(`${to}T00:00:00`).toISOString() } : {}),
    }),
    [statuses, actionType, ruleId, requesterId, onBehalfOfId, decidedById, text, from, to],
  )
  const principals = [...options.users, ...options.agents]
  return (
    <div className={`split ${selected ? 'has-detail' : ''}`}>
      <section className="list wide" aria-label="History">
        <h1>History</h1>
        <form className="filters" onSubmit={(e) => e.preventDefault()} aria-label="Filters">
          <label className="text-search">
            Search
            <input type="search" value={filters.text} placeholder="Words in the summary, action or comment" onChange={(e) => setText(e.target.value)} />
          </label>
          <fieldset>
            <legend>Status</legend>
            {STATUSES.map((s) => (
              <label key={s}>
                <input
                  type="checkbox"
                  checked={statuses.includes(s)}
                  onChange={(e) => setStatuses((prev) => (e.target.checked ? [...prev, s] : prev.filter((x) => x !== s)))}
                />
                {humanize(s)}
              </label>
            ))}
          </fieldset>
          <ActionFilter value={actionType} onChange={setActionType} actionTypes={options.actionTypes} />
          {options.rules && <RuleFilter value={ruleId} onChange={setRuleId} rules={options.rules} />}
          <PrincipalFilter label="Requester" value={requesterId} onChange={setRequesterId} principals={principals} />
          <PrincipalFilter label="For" value={onBehalfOfId} onChange={setOnBehalfOfId} principals={options.users} />
          <PrincipalFilter label="Decided by" value={decidedById} onChange={setDecidedById} principals={principals} />
          <label>
            From
            <input type="date" value={from} onChange={(e) => setFrom(e.target.value)} />
          </label>
          <label>
            Before
            <input type="date" value={to} onChange={(e) => setTo(e.target.value)} />
          </label>
        </form>
        <Page key={JSON.stringify(filter)} filter={filter} after={null} onOpen={setSelected} selected={selected} />
      </section>
      {selected && (
        <section className="detail" aria-label="Request">
          <button type="button" className="link close" onClick={() => setSelected(null)}>
            Close
          </button>
          <RequestDetail key={selected} id={selected} />
        </section>
      )}
    </div>
  )
}
