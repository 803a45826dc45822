// Who reads each module's records (approval:manage), shown under the rules: the modules with a
// setting of their own and those the rules name, each ORG (the default) or PRIVATE. A change is
// made with its own Save button, never by merely picking an option, and the status line says what
// was done.
import { useId, useMemo, useState, type FormEvent } from 'react'
import { useMutation, useQuery } from 'urql'
import { graphql } from '../gql'
import type { RecordVisibility } from '../gql/graphql'
import { FormFeedback } from './FormFeedback'
import '../styles/modules.css'

const ModuleSettingsQuery = graphql(`
  query ModuleSettings {
    moduleSettings {
      module
      visibility
    }
  }
`)

const SetModuleVisibility = graphql(`
  mutation SetModuleVisibility($module: String!, $visibility: RecordVisibility!) {
    setModuleVisibility(module: $module, visibility: $visibility) {
      module
      visibility
    }
  }
`)

/** The choices, in words; the API's value in parentheses for those who script it. */
const CHOICES: { value: RecordVisibility; label: string }[] = [
  { value: 'ORG', label: 'Everyone signed in (ORG)' },
  { value: 'PRIVATE', label: 'Owner, record managers and their agents (PRIVATE)' },
]
const said = (visibility: RecordVisibility) => (visibility === 'ORG' ? 'readable by everyone signed in' : 'private to their owners, record managers and the agents acting for them')

// the list is refetched after a change even while it is empty
const context = { additionalTypenames: ['ModuleSettings'] }
/** As the API takes a module's name. */
const MAX_MODULE_LENGTH = 100

function ModuleRow({ module, saved, explicit, busy, onSave }: { module: string; saved: RecordVisibility; explicit: boolean; busy: boolean; onSave: (v: RecordVisibility) => void }) {
  const [choice, setChoice] = useState(saved)
  const changed = choice !== saved
  return (
    <li>
      <span className="module-name">
        <code>{module}</code>
        {!explicit && <span className="muted"> (default)</span>}
      </span>
      <select aria-label={`Who reads records of ${module}`} value={choice} onChange={(e) => setChoice(e.target.value as RecordVisibility)}>
        {CHOICES.map((c) => (
          <option key={c.value} value={c.value}>
            {c.label}
          </option>
        ))}
      </select>
      {changed && (
        <span className="buttons">
          <button type="button" className="primary" disabled={busy} onClick={() => onSave(choice)}>
            Save
          </button>
          <button type="button" onClick={() => setChoice(saved)}>
            Cancel
          </button>
        </span>
      )}
    </li>
  )
}

/** The modules' record visibility: `ruleModules` are listed too (as ORG when they have no setting). */
export function ModuleVisibility({ ruleModules }: { ruleModules: readonly (string | null | undefined)[] }) {
  const [{ data, error }] = useQuery({ query: ModuleSettingsQuery, context })
  const [state, setVisibility] = useMutation(SetModuleVisibility)
  const [status, setStatus] = useState('')
  const [name, setName] = useState('')
  const [visibility, setNewVisibility] = useState<RecordVisibility>('PRIVATE')
  const ids = useId()
  const rows = useMemo(() => {
    const settings = new Map((data?.moduleSettings ?? []).map((m) => [m.module, m.visibility]))
    const names = new Set([...settings.keys(), ...ruleModules.filter((m): m is string => !!m)])
    return [...names].sort((a, b) => a.localeCompare(b)).map((module) => ({ module, visibility: settings.get(module) ?? 'ORG', explicit: settings.has(module) }))
  }, [data, ruleModules])

  async function save(module: string, to: RecordVisibility) {
    setStatus('')
    const res = await setVisibility({ module, visibility: to }, context)
    if (res.data) setStatus(`Records of ${res.data.setModuleVisibility.module} are now ${said(res.data.setModuleVisibility.visibility)}.`)
    return !res.error
  }
  async function add(e: FormEvent) {
    e.preventDefault()
    if (await save(name.trim(), visibility)) setName('')
  }

  return (
    <section className="module-visibility" aria-labelledby={`${ids}-heading`}>
      <h2 id={`${ids}-heading`}>Who reads records</h2>
      <p className="hint">
        A module is readable by everyone signed in (the default): anyone may propose a change to a record, which runs only if a rule gates it and its
        reviewer (for example the record&apos;s owner) approves. Only the owner, an agent acting for them, or a record manager changes a record directly. A
        private module&apos;s records are seen only by their owners, record managers and the agents acting for them.
      </p>
      {error && <p className="state error">Could not load the modules&apos; settings.</p>}
      {rows.length > 0 && (
        <ul className="modules">
          {rows.map((r) => (
            <ModuleRow
              key={`${r.module}|${r.visibility}`}
              module={r.module}
              saved={r.visibility}
              explicit={r.explicit}
              busy={state.fetching}
              onSave={(to) => void save(r.module, to)}
            />
          ))}
        </ul>
      )}
      <form className="module-add" aria-label="Set a module's visibility" onSubmit={(e) => void add(e)}>
        <label htmlFor={`${ids}-module`}>Module</label>
        <input id={`${ids}-module`} required maxLength={MAX_MODULE_LENGTH} value={name} onChange={(e) => setName(e.target.value)} />
        <label htmlFor={`${ids}-visibility`}>Readable by</label>
        <select id={`${ids}-visibility`} value={visibility} onChange={(e) => setNewVisibility(e.target.value as RecordVisibility)}>
          {CHOICES.map((c) => (
            <option key={c.value} value={c.value}>
              {c.label}
            </option>
          ))}
        </select>
        <button type="submit" disabled={state.fetching || !name.trim()}>
          Set
        </button>
      </form>
      <FormFeedback error={state.error} status={status} />
    </section>
  )
}
