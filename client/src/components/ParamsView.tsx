// An action's parameters, shown the way a reviewer reads them: an email as an email, a record as
// its fields, anything else as formatted JSON.

type Json = null | boolean | number | string | Json[] | { [key: string]: Json }

function isObject(value: unknown): value is Record<string, Json> {
  return value !== null && typeof value === 'object' && !Array.isArray(value)
}

function Value({ value }: { value: Json }) {
  if (value === null || value === undefined) return <span className="muted">empty</span>
  if (typeof value === 'object') return <pre className="json">{JSON.stringify(value, null, 2)}</pre>
  return <>{String(value)}</>
}

function Fields({ data }: { data: Record<string, Json> }) {
  const entries = Object.entries(data)
  if (entries.length === 0) return <p className="muted">No fields.</p>
  return (
    <dl className="fields">
      {entries.map(([key, value]) => (
        <div key={key}>
          <dt>{key}</dt>
          <dd>
            <Value value={value} />
          </dd>
        </div>
      ))}
    </dl>
  )
}

function list(value: Json | undefined): string {
  return Array.isArray(value) ? value.map(String).join(', ') : value == null ? '' : String(value)
}

export function ParamsView({ actionType, params }: { actionType: string; params: unknown }) {
  if (actionType === 'send_email' && isObject(params)) {
    const { to, cc, subject, body, ...rest } = params
    return (
      <div className="email" aria-label="Email">
        <dl className="fields">
          <div>
            <dt>To</dt>
            <dd>{list(to)}</dd>
          </div>
          {cc !== undefined && (
            <div>
              <dt>Cc</dt>
              <dd>{list(cc)}</dd>
            </div>
          )}
          <div>
            <dt>Subject</dt>
            <dd>{subject == null ? <span className="muted">no subject</span> : String(subject)}</dd>
          </div>
        </dl>
        <div className="email-body">{body == null ? <span className="muted">no body</span> : String(body)}</div>
        {Object.keys(rest).length > 0 && <Fields data={rest} />}
      </div>
    )
  }
  if ((actionType === 'create_record' || actionType === 'update_record') && isObject(params) && isObject(params.data)) {
    return (
      <div aria-label="Record">
        <Fields data={params.data} />
      </div>
    )
  }
  if (isObject(params) && Object.values(params).every((v) => v === null || typeof v !== 'object')) return <Fields data={params} />
  return <pre className="json">{JSON.stringify(params, null, 2)}</pre>
}

type Person = { id: string; name: string } | null | undefined

/**
 * A record mutation that sets the owner: who owns the record now and who will. An ownership
 * change makes the new owner the record's RECORD_OWNER reviewer from then on, so it is shown
 * apart from the fields, never only as an ownerId among them.
 */
export function OwnerChange({ request }: { request: { actionType: string; params: unknown; proposedOwner?: Person; record?: { owner?: Person } | null } }) {
  const params = request.params as { ownerId?: unknown } | null
  if (!params || typeof params !== 'object' || !('ownerId' in params)) return null
  const proposed = request.proposedOwner?.name ?? 'nobody'
  if (request.actionType === 'create_record') {
    return (
      <p className="owner-change">
        Owner: <strong>{proposed}</strong>
      </p>
    )
  }
  const current = request.record?.owner?.name ?? 'nobody'
  if (request.proposedOwner?.id === request.record?.owner?.id) return null
  return (
    <p className="banner warn owner-change" role="note">
      Changes the owner: <strong>{current}</strong> → <strong>{proposed}</strong>
    </p>
  )
}

export interface FieldChange {
  field: string
  current?: unknown
  proposed?: unknown
  change: 'ADDED' | 'CHANGED' | 'REMOVED' | 'UNCHANGED'
}

const CHANGE_WORDS = { ADDED: 'added', CHANGED: 'changed', REMOVED: 'removed', UNCHANGED: 'unchanged' } as const

/** An update of a record as a diff: each field it names, its value now and after, marked when it changes. */
export function RecordChanges({ changes }: { changes: FieldChange[] }) {
  if (changes.length === 0) return <p className="muted">The change names no fields.</p>
  return (
    <table className="record-changes" aria-label="Record changes">
      <thead>
        <tr>
          <th scope="col">Field</th>
          <th scope="col">Now</th>
          <th scope="col">After</th>
        </tr>
      </thead>
      <tbody>
        {changes.map((c) => (
          <tr key={c.field} className={c.change.toLowerCase()}>
            <th scope="row">
              {c.field} {c.change !== 'UNCHANGED' && <span className={`change ${c.change.toLowerCase()}`}>{CHANGE_WORDS[c.change]}</span>}
            </th>
            <td>{c.change === 'ADDED' ? <span className="muted">not set</span> : <Value value={c.current as Json} />}</td>
            <td>{c.change === 'REMOVED' ? <span className="muted">removed</span> : <Value value={c.proposed as Json} />}</td>
          </tr>
        ))}
      </tbody>
    </table>
  )
}
