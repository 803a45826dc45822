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

/** Post length limits of the platforms we know (characters). */
const POST_LIMITS: Record<string, number> = { x: 280, twitter: 280, bluesky: 300, threads: 500, mastodon: 500, linkedin: 3000, instagram: 2200, facebook: 63206 }

/** A date in the reader's words and zone, and how far it is from now ("in 3 hours", "2 days ago"). */
function when(value: string, now = new Date()): { text: string; past: boolean } {
  const date = new Date(value)
  if (Number.isNaN(date.getTime())) return { text: value, past: false }
  const diff = date.getTime() - now.getTime()
  const rtf = new Intl.RelativeTimeFormat(undefined, { numeric: 'auto' })
  const abs = Math.abs(diff)
  const [n, unit]: [number, Intl.RelativeTimeFormatUnit] =
    abs < 3600_000 ? [Math.round(diff / 60_000), 'minute'] : abs < 86_400_000 ? [Math.round(diff / 3600_000), 'hour'] : [Math.round(diff / 86_400_000), 'day']
  const text = `${date.toLocaleString(undefined, { weekday: 'short', day: 'numeric', month: 'short', hour: '2-digit', minute: '2-digit' })} (${rtf.format(n, unit)})`
  return { text, past: diff < 0 }
}

function SocialPost({ params }: { params: Record<string, Json> }) {
  const { text, platform, mediaUrls, scheduledAt, ...rest } = params
  const body = typeof text === 'string' ? text : ''
  const limit = typeof platform === 'string' ? POST_LIMITS[platform.toLowerCase()] : undefined
  const length = [...body].length
  const schedule = typeof scheduledAt === 'string' ? when(scheduledAt) : null
  return (
    <div className="post" aria-label="Post">
      <p className="kicker">{typeof platform === 'string' ? platform : 'Any platform'}</p>
      <div className="post-text">{body || <span className="muted">no text</span>}</div>
      <p className={`post-length ${limit && length > limit ? 'over' : ''}`}>
        {length} characters{limit ? ` of ${limit}` : ''}
        {limit && length > limit ? ` — ${length - limit} over the limit` : ''}
      </p>
      {Array.isArray(mediaUrls) && mediaUrls.length > 0 && (
        <ul className="media" aria-label="Media">
          {mediaUrls.map((u, i) => (
            <li key={i}>{String(u)}</li>
          ))}
        </ul>
      )}
      <p className={schedule?.past ? 'banner warn' : ''}>
        {schedule ? <>Scheduled for {schedule.text}{schedule.past && ' — in the past: it would go out at once'}</> : 'Posted as soon as it is approved'}
      </p>
      {Object.keys(rest).length > 0 && <Fields data={rest} />}
    </div>
  )
}

/** Scripts a page loads from elsewhere: their hosts. */
function thirdPartyScripts(html: string): string[] {
  const doc = new DOMParser().parseFromString(html, 'text/html')
  const hosts = [...doc.querySelectorAll('script[src]')].map((s) => {
    try {
      return new URL(s.getAttribute('src')!, 'https://page.invalid/').host
    } catch {
      return s.getAttribute('src')!
    }
  })
  return [...new Set(hosts.filter((h) => h !== 'page.invalid'))]
}

function LandingPage({ params }: { params: Record<string, Json> }) {
  const { title, slug, html, publishAt, ...rest } = params
  const page = typeof html === 'string' ? html : ''
  const scripts = page ? thirdPartyScripts(page) : []
  const inline = page ? new DOMParser().parseFromString(page, 'text/html').querySelectorAll('script:not([src])').length : 0
  const publish = typeof publishAt === 'string' ? when(publishAt) : null
  return (
    <div className="landing" aria-label="Landing page">
      <dl className="fields">
        <div>
          <dt>Title</dt>
          <dd>{title == null ? <span className="muted">no title</span> : String(title)}</dd>
        </div>
        <div>
          <dt>Address</dt>
          <dd>/{slug == null ? '' : String(slug)}</dd>
        </div>
        <div>
          <dt>Published</dt>
          <dd className={publish?.past ? 'late' : ''}>{publish ? <>{publish.text}{publish.past && ' — in the past'}</> : 'as soon as it is approved'}</dd>
        </div>
      </dl>
      {scripts.length > 0 && (
        <p className="banner warn" role="note">
          The page loads scripts from other sites: {scripts.join(', ')}.
        </p>
      )}
      {inline > 0 && <p className="muted">It has {inline} inline script{inline === 1 ? '' : 's'} (not run in the preview).</p>}
      {page ? (
        // no allow-scripts, no same origin: the preview runs nothing and reaches nothing
        <iframe className="page-preview" title="Page preview" sandbox="" srcDoc={page} />
      ) : (
        <p className="muted">No HTML.</p>
      )}
      {Object.keys(rest).length > 0 && <Fields data={rest} />}
    </div>
  )
}

function BrowsingTask({ params }: { params: Record<string, Json> }) {
  const { url, instructions, allowedDomains, mayFillForms, mayPay, ...rest } = params
  return (
    <div className="browsing" aria-label="Browsing task">
      <dl className="fields">
        <div>
          <dt>Opens</dt>
          <dd>{String(url ?? '')}</dd>
        </div>
        <div>
          <dt>Instructions</dt>
          <dd className="email-body">{instructions == null ? <span className="muted">none</span> : String(instructions)}</dd>
        </div>
        <div>
          <dt>May go to</dt>
          <dd>{Array.isArray(allowedDomains) && allowedDomains.length ? allowedDomains.map(String).join(', ') : 'any site'}</dd>
        </div>
        <div>
          <dt>Submit forms</dt>
          <dd>{mayFillForms ? <strong>yes</strong> : 'no'}</dd>
        </div>
        <div>
          <dt>Pay</dt>
          <dd className={mayPay ? 'late' : ''}>{mayPay ? <strong>yes — it may spend money</strong> : 'no'}</dd>
        </div>
      </dl>
      {Object.keys(rest).length > 0 && <Fields data={rest} />}
    </div>
  )
}

/** A JSON Schema as the views read it: an object's properties, and what each says of itself. */
export type ToolSchema = { type?: string | string[]; properties?: Record<string, ToolSchema>; required?: string[]; title?: string; description?: string }

/** What the MCP gateway says of the tool a call_tool request calls (its request's `context.tool`). */
export interface ToolInfo {
  server: string
  name: string
  title?: string | null
  description?: string | null
  inputSchema?: ToolSchema | null
  annotations?: { destructiveHint?: boolean; readOnlyHint?: boolean; openWorldHint?: boolean } | null
}

/**
 * The tool a call_tool request calls, as the gateway described it in the request's context; only
 * when it names the same server and tool as the params (the params are what runs).
 */
export function toolInfo(params: unknown, context: unknown): ToolInfo | null {
  const tool = isObject(context) ? context.tool : undefined
  if (!isObject(params) || !isObject(tool)) return null
  if (tool.server !== params.server || tool.name !== params.tool) return null
  return tool as unknown as ToolInfo
}

/** A tool's arguments laid out by its input schema: its properties in order, then any it does not declare. */
function ToolArguments({ args, schema }: { args: Json | undefined; schema: ToolSchema | null | undefined }) {
  if (!isObject(args)) return <pre className="json">{JSON.stringify(args ?? null, null, 2)}</pre>
  const declared = Object.entries(schema?.properties ?? {})
  const others = Object.keys(args).filter((k) => !schema?.properties?.[k])
  if (declared.length === 0 && others.length === 0) return <p className="muted">No arguments.</p>
  return (
    <dl className="fields tool-arguments" aria-label="Arguments">
      {declared.map(([name, property]) => (
        <div key={name}>
          <dt>
            {property.title ?? name}
            {property.description && <span className="argument-help">{property.description}</span>}
          </dt>
          <dd>{name in args ? <Value value={args[name]!} /> : <span className="muted">not given</span>}</dd>
        </div>
      ))}
      {others.map((name) => (
        <div key={name}>
          <dt>
            {name}
            {schema?.properties && <span className="argument-help">not in the tool's schema</span>}
          </dt>
          <dd>
            <Value value={args[name]!} />
          </dd>
        </div>
      ))}
    </dl>
  )
}

/** A call of an MCP server's tool through the gateway: which tool, what it does, and its arguments. */
function ToolCall({ params, context }: { params: Record<string, Json>; context: unknown }) {
  const { server, tool, arguments: args, ...rest } = params
  const info = toolInfo(params, context)
  const hints = info?.annotations
  return (
    <div className="tool-call" aria-label="Tool call">
      <p className="kicker">MCP tool of {String(server)}</p>
      <p className="tool-title">
        <strong>{info?.title || String(tool)}</strong>
        {info?.title && <code>{String(tool)}</code>}
      </p>
      {info?.description && (
        <p className="tool-description" aria-label="What the tool does">
          {info.description}
        </p>
      )}
      {hints?.destructiveHint && !hints.readOnlyHint && <p className="banner warn">Its server marks this tool as one that may change or delete things.</p>}
      {hints?.readOnlyHint && <p className="muted">Its server marks this tool as read-only.</p>}
      <ToolArguments args={args} schema={info?.inputSchema} />
      {Object.keys(rest).length > 0 && <Fields data={rest} />}
    </div>
  )
}

export function ParamsView({ actionType, params, context }: { actionType: string; params: unknown; context?: unknown }) {
  if (actionType === 'call_tool' && isObject(params)) return <ToolCall params={params} context={context} />
  if (actionType === 'post_to_social' && isObject(params)) return <SocialPost params={params} />
  if (actionType === 'create_landing_page' && isObject(params)) return <LandingPage params={params} />
  if (actionType === 'browse_website' && isObject(params)) return <BrowsingTask params={params} />
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
  // anything else (a custom action type): its fields, nested values as JSON
  if (isObject(params)) return <Fields data={params} />
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
