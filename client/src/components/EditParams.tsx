// Edit before approving: a form generated from the action type's JSON Schema (its properties, in
// the schema's order), showing what changes from what the agent asked, and approving the edit
// (`approveRequest(params:)`). The server checks the edit against the same schema. A call of an
// MCP tool (call_tool) edits its arguments by the tool's own input schema, which the gateway put
// in the request's context; the gateway checks the edit against it before it calls the tool.
import { useMemo, useState } from 'react'
import { useQuery } from 'urql'
import { graphql } from '../gql'
import { humanize } from '../lib/format'
import { toolInfo } from './ParamsView'

const ActionSchema = graphql(`
  query ActionSchema($key: String!) {
    actionType(key: $key) {
      key
      paramsSchema
    }
  }
`)

type Schema = { type?: string | string[]; properties?: Record<string, Schema>; anyOf?: Schema[]; items?: Schema; title?: string; description?: string }
type Params = Record<string, unknown>

/** How a field is edited: as text, long text, a list (comma-separated), a yes/no, or JSON. */
type Kind = 'text' | 'long' | 'list' | 'boolean' | 'number' | 'json'

const LONG = new Set(['body', 'html', 'text', 'instructions'])

function kindOf(name: string, schema: Schema | undefined, value: unknown): Kind {
  const types = [schema?.type, ...(schema?.anyOf ?? []).map((s) => s.type)].flat().filter(Boolean)
  if (types.includes('array') || Array.isArray(value)) return types.includes('object') ? 'json' : 'list'
  if (types.includes('boolean') || typeof value === 'boolean') return 'boolean'
  if (types.includes('integer') || types.includes('number') || typeof value === 'number') return 'number'
  if (types.includes('object') || (value !== null && typeof value === 'object')) return 'json'
  return LONG.has(name) || (typeof value === 'string' && (value.includes('\n') || value.length > 80)) ? 'long' : 'text'
}

/** The field's value as the form shows it. */
function shown(kind: Kind, value: unknown): string | boolean {
  if (kind === 'boolean') return value === true
  if (value === undefined || value === null) return ''
  if (kind === 'list') return (Array.isArray(value) ? value : [value]).map(String).join(', ')
  if (kind === 'json') return JSON.stringify(value, null, 2)
  return String(value)
}

/** The form's value as params hold it; throws when JSON does not parse. */
function parsed(kind: Kind, input: string | boolean, asked: unknown): unknown {
  if (kind === 'boolean') return input === true
  const text = String(input)
  if (kind === 'list') {
    const items = text.split(',').map((s) => s.trim()).filter(Boolean)
    // one address stays a string when the agent gave a string
    return typeof asked === 'string' && items.length === 1 ? items[0] : items
  }
  if (kind === 'number') return text.trim() === '' ? undefined : Number(text)
  if (kind === 'json') return text.trim() === '' ? undefined : (JSON.parse(text) as unknown)
  return text === '' && asked === undefined ? undefined : text
}

const same = (a: unknown, b: unknown) => JSON.stringify(a) === JSON.stringify(b)

const isParams = (value: unknown): value is Params => value !== null && typeof value === 'object' && !Array.isArray(value)

/**
 * The form: one field per property of the schema (then any other the agent gave), a summary of
 * what changes, and Approve with these changes. `onApprove` gets the edited params. For a tool
 * call, the fields are its arguments', by the tool's input schema.
 */
export function EditParams({
  actionType,
  params,
  context,
  onApprove,
  onCancel,
}: {
  actionType: string
  params: Params
  context?: unknown
  onApprove: (edited: Params) => void
  onCancel: () => void
}) {
  const args = actionType === 'call_tool' && isParams(params.arguments) ? params.arguments : null
  const [{ data }] = useQuery({ query: ActionSchema, variables: { key: actionType }, pause: args !== null })
  if (args) {
    const schema = (toolInfo(params, context)?.inputSchema ?? undefined) as Schema | undefined
    return <ParamsForm schema={schema} params={args} onApprove={(edited) => onApprove({ ...params, arguments: edited })} onCancel={onCancel} />
  }
  if (!data) return <p className="state">Loading the form…</p>
  return <ParamsForm schema={data.actionType?.paramsSchema as Schema | undefined} params={params} onApprove={onApprove} onCancel={onCancel} />
}

function ParamsForm({ schema, params, onApprove, onCancel }: { schema: Schema | undefined; params: Params; onApprove: (edited: Params) => void; onCancel: () => void }) {
  const names = useMemo(() => {
    const declared = Object.keys(schema?.properties ?? {})
    return [...declared, ...Object.keys(params).filter((k) => !declared.includes(k))]
  }, [schema, params])
  const [values, setValues] = useState<Record<string, string | boolean>>({})
  const [problem, setProblem] = useState<string | null>(null)

  const kinds = Object.fromEntries(names.map((n) => [n, kindOf(n, schema?.properties?.[n], params[n])])) as Record<string, Kind>
  const valueOf = (name: string) => values[name] ?? shown(kinds[name]!, params[name])
  let edited: Params | null = null
  let parseError: string | null = null
  try {
    edited = { ...params }
    for (const name of names) {
      if (!(name in values)) continue
      const v = parsed(kinds[name]!, values[name]!, params[name])
      if (v === undefined) delete edited[name]
      else edited[name] = v
    }
  } catch {
    parseError = 'One of the JSON fields does not parse.'
    edited = null
  }
  const changed = edited ? names.filter((n) => !same(edited![n], params[n])) : []

  return (
    <form
      className="edit-params"
      aria-label="Edit before approving"
      onSubmit={(e) => {
        e.preventDefault()
        if (!edited) return setProblem(parseError)
        onApprove(edited)
      }}
    >
      {names.map((name) => {
        const kind = kinds[name]!
        const id = `edit-${name}`
        const label = `${schema?.properties?.[name]?.title ?? humanize(name)}${kind === 'list' ? ' (comma-separated)' : kind === 'json' ? ' (JSON)' : ''}`
        const set = (value: string | boolean) => setValues((v) => ({ ...v, [name]: value }))
        return (
          <div key={name} className={`edit-field ${changed.includes(name) ? 'changed' : ''}`}>
            {kind === 'boolean' ? (
              <label className="check">
                <input id={id} type="checkbox" checked={valueOf(name) === true} onChange={(e) => set(e.target.checked)} />
                {label}
              </label>
            ) : (
              <>
                <label htmlFor={id}>{label}</label>
                {kind === 'long' || kind === 'json' ? (
                  <textarea id={id} rows={kind === 'json' ? 6 : 5} value={String(valueOf(name))} onChange={(e) => set(e.target.value)} />
                ) : (
                  <input id={id} type={kind === 'number' ? 'number' : 'text'} value={String(valueOf(name))} onChange={(e) => set(e.target.value)} />
                )}
              </>
            )}
          </div>
        )
      })}
      <p className="edit-summary" role="status">
        {parseError ?? (changed.length ? `Changes: ${changed.map(humanize).join(', ')}.` : 'No changes yet: this approves what the agent asked.')}
      </p>
      {problem && (
        <p className="error" role="alert">
          {problem}
        </p>
      )}
      <div className="buttons">
        <button type="submit" className="approve" disabled={!edited}>
          {changed.length ? 'Approve with these changes' : 'Approve as asked'}
        </button>
        <button type="button" className="link" onClick={onCancel}>
          Cancel
        </button>
      </div>
    </form>
  )
}
