import { useEffect, useId, useMemo, useRef, useState, type FormEvent } from 'react'
import type { RuleGroupType } from 'react-querybuilder'
import { useClient, useMutation, useQuery } from 'urql'
import { graphql } from '../gql'
import type { ApprovalRuleInput, ApprovalStageInput, ExpiryAction, ResolverInput, ResolverType, ResourceType, RuleEditorOptionsQuery, TestRuleQuery } from '../gql/graphql'
import { ANY_OPERATORS, EMPTY_QUERY, fieldsFor, fieldsOf, jsonLogicFromQuery, queryFromJsonLogic, readsBack, type ConditionFact } from '../lib/conditions'
import { DURATION_UNITS, durationParts, secondsFrom, type DurationUnit } from '../lib/durations'
import { errorMessage, humanize } from '../lib/format'
import { exampleFor } from '../lib/samples'
import { ConditionBuilder } from './ConditionBuilder'
import '../styles/rules.css'

export type RuleDraft = ApprovalRuleInput

const EditorOptions = graphql(`
  query RuleEditorOptions {
    actionTypes {
      key
      resourceType
      description
      paramsSchema
      conditionFacts {
        path
        label
        kind
        operators
        choices
      }
    }
    users {
      id
      name
      email
    }
    roles {
      key
      name
    }
    agents {
      id
      name
    }
  }
`)

const CreateRule = graphql(`
  mutation CreateRule($input: ApprovalRuleInput!) {
    createApprovalRule(input: $input) {
      id
    }
  }
`)

/** Replaces a saved rule: the editor's Save, and the list's Enabled toggle. */
export const SaveRule = graphql(`
  mutation SaveRule($id: ID!, $input: ApprovalRuleInput!) {
    updateApprovalRule(id: $id, input: $input) {
      id
      enabled
      version
    }
  }
`)

const DeleteRule = graphql(`
  mutation DeleteRule($id: ID!) {
    deleteApprovalRule(id: $id)
  }
`)

const TestRule = graphql(`
  query TestRule($input: ApprovalRuleInput!, $sample: RequestApprovalInput!, $ruleId: ID) {
    testApprovalRule(input: $input, sample: $sample, ruleId: $ruleId) {
      gates
      applies
      conditionsHold
      conditionError
      competingRule {
        id
        name
      }
    }
  }
`)

const RESOLVER_TYPES: { type: ResolverType; label: string }[] = [
  { type: 'NAMED_USER', label: 'A named user' },
  { type: 'MANAGER', label: "The requester's manager" },
  { type: 'ROLE', label: 'Anyone with a role' },
  { type: 'RECORD_OWNER', label: "The record's owner" },
  { type: 'AGENT', label: 'A reviewer agent' },
  { type: 'AUTO_APPROVE', label: 'Approve automatically' },
]

type Options = RuleEditorOptionsQuery | undefined

/** Where a rule's action has an object whose fields differ from one action to the next: a tool's arguments, a record's data. */
const OPEN_OBJECTS: Record<string, { path: string; label: string; example: string }> = {
  call_tool: { path: 'params.arguments', label: 'Tool: argument', example: 'path' },
  create_record: { path: 'params.data', label: 'Record: data', example: 'value' },
  update_record: { path: 'params.data', label: 'Record: data', example: 'value' },
}

/** The builder offers a field of an open object (a tool's arguments, a record's data) as a fact once its name is given. */
function OpenFieldAdder({ of, onAdd }: { of: { label: string; example: string }; onAdd: (name: string) => void }) {
  const [name, setName] = useState('')
  const valid = /^[A-Za-z0-9_.-]{1,100}$/.test(name)
  return (
    <div className="row tool-argument">
      <label>
        {of.label === 'Tool: argument' ? 'Test a tool argument' : 'Test a field of the record'}
        <input value={name} placeholder={`e.g. ${of.example}`} onChange={(e) => setName(e.target.value.trim())} />
      </label>
      <button type="button" disabled={!valid} onClick={() => (onAdd(name), setName(''))}>
        Offer it as a fact
      </button>
    </div>
  )
}

/**
 * A duration entered as a number and a unit (minutes, hours, days) and given as seconds, as the
 * API takes it. Empty means none ("never") unless `required`.
 */
function DurationInput({
  label,
  seconds,
  onChange,
  unit: defaultUnit = 'hours',
  required,
  describedBy,
}: {
  label: string
  seconds: number | null | undefined
  onChange: (seconds: number | null) => void
  unit?: DurationUnit
  required?: boolean
  describedBy?: string
}) {
  const id = useId()
  const [parts, setParts] = useState(() => durationParts(seconds, defaultUnit))
  // a change from outside (another resolver type chosen) shows the new value
  useEffect(() => {
    setParts((p) => {
      const shown = secondsFrom(p.amount, p.unit)
      // an amount being typed again (cleared: none, or 0 for a required one) stays as it is
      return shown === (seconds ?? null) || (shown === null && !seconds) ? p : durationParts(seconds, p.unit)
    })
  }, [seconds])
  const update = (next: { amount: string; unit: DurationUnit }) => {
    setParts(next)
    onChange(secondsFrom(next.amount, next.unit))
  }
  return (
    <div className="duration">
      <label htmlFor={id}>{label}</label>
      <span className="duration-inputs">
        <input
          id={id}
          type="number"
          min={0}
          step="any"
          inputMode="decimal"
          required={required}
          placeholder={required ? '0' : 'never'}
          value={parts.amount}
          aria-describedby={describedBy}
          onChange={(e) => update({ ...parts, amount: e.target.value })}
        />
        <select aria-label={`${label} (unit)`} value={parts.unit} onChange={(e) => update({ ...parts, unit: e.target.value as DurationUnit })}>
          {DURATION_UNITS.map((u) => (
            <option key={u.unit} value={u.unit}>
              {u.unit}
            </option>
          ))}
        </select>
      </span>
    </div>
  )
}

function ResolverPicker({
  label,
  value,
  onChange,
  options,
  optional,
  fallback,
}: {
  label: string
  value: ResolverInput | null
  onChange: (v: ResolverInput | null) => void
  options: Options
  optional?: boolean
  /** A fallback: approving automatically then means an action nobody said yes to runs. */
  fallback?: boolean
}) {
  const type = value?.type ?? ''
  const noteId = useId()
  const auto = type === 'AUTO_APPROVE'
  return (
    <fieldset className="resolver">
      <legend>{label}</legend>
      <select
        aria-label={`${label} type`}
        aria-describedby={auto ? noteId : undefined}
        value={type}
        onChange={(e) => onChange(e.target.value ? { type: e.target.value as ResolverType, delaySeconds: e.target.value === 'AUTO_APPROVE' ? 0 : null } : null)}
      >
        {optional && <option value="">None: approval managers decide</option>}
        {RESOLVER_TYPES.map((r) => (
          <option key={r.type} value={r.type}>
            {r.label}
          </option>
        ))}
      </select>
      {type === 'NAMED_USER' && (
        <select aria-label={`${label} user`} value={value?.userId ?? ''} onChange={(e) => onChange({ type: 'NAMED_USER', userId: e.target.value || null })}>
          <option value="">Choose a user…</option>
          {options?.users.map((u) => (
            <option key={u.id} value={u.id}>
              {u.name} ({u.email})
            </option>
          ))}
        </select>
      )}
      {type === 'ROLE' && (
        <select aria-label={`${label} role`} value={value?.roleKey ?? ''} onChange={(e) => onChange({ type: 'ROLE', roleKey: e.target.value || null })}>
          <option value="">Choose a role…</option>
          {options?.roles.map((r) => (
            <option key={r.key} value={r.key}>
              {r.name}
            </option>
          ))}
        </select>
      )}
      {type === 'AGENT' && (
        <select aria-label={`${label} agent`} value={value?.agentId ?? ''} onChange={(e) => onChange({ type: 'AGENT', agentId: e.target.value || null })}>
          <option value="">Choose an agent…</option>
          {options?.agents.map((a) => (
            <option key={a.id} value={a.id}>
              {a.name}
            </option>
          ))}
        </select>
      )}
      {auto && (
        <DurationInput
          label={`${label}: approve after`}
          unit="minutes"
          required
          seconds={value?.delaySeconds ?? 0}
          onChange={(s) => onChange({ type: 'AUTO_APPROVE', delaySeconds: s ?? 0 })}
        />
      )}
      {auto && fallback && (
        <p id={noteId} className="rule-warning">
          <strong>No one approves these.</strong> When the reviewers cannot be found or do not decide in time, the action runs without anyone saying yes.
        </p>
      )}
      {auto && !fallback && (
        <p id={noteId} className="hint">
          Nobody is asked: the action is approved after the delay (0 for at once).
        </p>
      )}
    </fieldset>
  )
}

const EMPTY_RULE: RuleDraft = {
  name: '',
  resourceType: 'AGENT_ACTION',
  actionType: 'send_email',
  primaryResolver: { type: 'MANAGER' },
  fallbackResolver: null,
  enabled: true,
  priority: 0,
  allowSelfApproval: false,
  allowEdit: true,
  onExpiry: 'EXPIRE',
  requiredApprovals: 1,
  nextStages: [],
}

/**
 * Creates or edits a rule: what it gates (action, module, conditions), who decides in each stage
 * and how many approvals each needs, deadlines and what they do; then tests the draft on a sample
 * action before it is saved. A saved rule can be deleted here, after a confirmation.
 */
export function RuleEditor({
  rule: initial,
  onDone,
  template,
  conditions,
  submitLabel,
  sample,
  embedded,
  warnings,
}: {
  rule: (RuleDraft & { id: string }) | null
  /** After saving (with the new rule's id when one was created), or on Cancel. */
  onDone: (createdId?: string) => void
  /** A new rule's starting point, instead of an empty one. */
  template?: RuleDraft
  /** The new rule's conditions, as the builder's query. */
  conditions?: RuleGroupType
  submitLabel?: string
  /** The test panel's first sample. */
  sample?: { params: unknown; context: unknown }
  /** Inside another page's section, which has its own heading. */
  embedded?: boolean
  /** Why the saved conditions would be refused or rewritten if saved today (ApprovalRule.conditionWarnings). */
  warnings?: readonly string[]
}) {
  const [{ data: options }] = useQuery({ query: EditorOptions })
  const [draft, setDraft] = useState<RuleDraft>(() => (initial ? toDraft(initial) : (template ?? EMPTY_RULE)))
  const stored = initial?.conditions ?? template?.conditions ?? null
  const [query, setQuery] = useState<RuleGroupType>(() => conditions ?? EMPTY_QUERY)
  // conditions the builder cannot show whole are edited as JSONLogic, never silently cut down
  const [raw, setRaw] = useState<string | null>(null)
  const [loaded, setLoaded] = useState(!!conditions || !stored)
  const [openFields, setOpenFields] = useState<string[]>([])
  const [error, setError] = useState<string | null>(null)
  const [createState, create] = useMutation(CreateRule)
  const [saveState, save] = useMutation(SaveRule)
  const set = <K extends keyof RuleDraft>(key: K, value: RuleDraft[K]) => setDraft((d) => ({ ...d, [key]: value }))
  const actionTypes = options?.actionTypes ?? []
  const facts = useMemo<ConditionFact[]>(() => {
    const offered = actionTypes.find((a) => a.key === draft.actionType)?.conditionFacts ?? []
    const open = OPEN_OBJECTS[draft.actionType]
    const added = open ? openFields.map((name) => ({ path: `${open.path}.${name}`, label: `${open.label} ${name}`, kind: 'ANY', operators: ANY_OPERATORS })) : []
    return [...offered, ...added]
  }, [actionTypes, draft.actionType, openFields])
  const people = useMemo(() => ({ agents: options?.agents ?? [], users: options?.users ?? [] }), [options])
  const baseFields = useMemo(() => fieldsOf(facts, people), [facts, people])
  // a stored rule is read into the builder once the facts of its action type are known
  useEffect(() => {
    if (loaded || !options) return
    setLoaded(true)
    const read = queryFromJsonLogic(stored, baseFields)
    if (readsBack(stored, fieldsFor(read, baseFields))) setQuery(read)
    else setRaw(JSON.stringify(stored, null, 2))
  }, [loaded, options, stored, baseFields])
  const fields = useMemo(() => fieldsFor(query, baseFields), [query, baseFields])
  const rawConditions = useMemo(() => {
    if (raw === null) return undefined
    if (raw.trim() === '') return null
    try {
      return JSON.parse(raw) as unknown
    } catch {
      return raw // the server says what is wrong with it
    }
  }, [raw])
  const input = useMemo<RuleDraft>(() => ({ ...draft, conditions: rawConditions !== undefined ? rawConditions : jsonLogicFromQuery(query, fields) }), [draft, query, fields, rawConditions])
  const expiryNote = useId()
  const rawNote = useId()

  async function submit(e: FormEvent) {
    e.preventDefault()
    setError(null)
    if (initial) {
      const result = await save({ id: initial.id, input }, { additionalTypenames: ['ApprovalRule'] })
      if (result.error) return setError(errorMessage(result.error))
      return onDone()
    }
    const result = await create({ input }, { additionalTypenames: ['ApprovalRule'] })
    if (result.error || !result.data) return setError(result.error ? errorMessage(result.error) : 'The rule was not created.')
    onDone(result.data.createApprovalRule.id)
  }

  return (
    <div className="rule-editor-pane">
      <form className="rule-editor" onSubmit={submit} aria-label={initial ? `Edit ${initial.name}` : 'New rule'}>
        {!embedded && <h2>{initial ? `Edit “${initial.name}”` : 'New rule'}</h2>}
        <label>
          Name
          <input value={draft.name} onChange={(e) => set('name', e.target.value)} required />
        </label>
        <label>
          Description
          <input value={draft.description ?? ''} onChange={(e) => set('description', e.target.value || null)} />
        </label>

        <h3>What it gates</h3>
        <div className="row">
          <label>
            Action
            <select
              value={draft.actionType}
              onChange={(e) => {
                const action = actionTypes.find((a) => a.key === e.target.value)
                setDraft((d) => ({ ...d, actionType: e.target.value, resourceType: (action?.resourceType ?? d.resourceType) as ResourceType }))
              }}
            >
              {actionTypes.map((a) => (
                <option key={a.key} value={a.key}>
                  {humanize(a.key)} ({a.resourceType === 'RECORD_MUTATION' ? 'record' : 'agent action'})
                </option>
              ))}
            </select>
          </label>
          <label>
            Module
            <input value={draft.module ?? ''} placeholder="any" onChange={(e) => set('module', e.target.value || null)} />
          </label>
          <label>
            Priority
            <input type="number" value={draft.priority ?? 0} onChange={(e) => set('priority', Number(e.target.value))} />
          </label>
        </div>
        <fieldset className="conditions">
          <legend>Conditions (all requests when empty)</legend>
          {warnings && warnings.length > 0 && (
            <div className="condition-warnings" role="note">
              <p>
                These conditions were saved before conditions were typed. Where the check would rewrite them, they already work as their author meant; what it would refuse still works as it did. Once you change them, the check applies:
              </p>
              <ul>
                {warnings.map((w) => (
                  <li key={w}>{w}</li>
                ))}
              </ul>
            </div>
          )}
          {raw !== null ? (
            <>
              <p className="muted" id={rawNote}>
                The builder cannot show these conditions whole, so they are shown as stored, in JSONLogic. Edit them here, or start again in the builder.
              </p>
              <textarea aria-label="Conditions (JSONLogic)" aria-describedby={rawNote} rows={8} value={raw} onChange={(e) => setRaw(e.target.value)} spellCheck={false} />
              <button type="button" onClick={() => (setRaw(null), setQuery(EMPTY_QUERY))}>
                Start again in the builder
              </button>
            </>
          ) : loaded ? (
            <ConditionBuilder fields={fields} query={query} onChange={setQuery} />
          ) : (
            <p className="muted">Loading the facts of this action…</p>
          )}
          {OPEN_OBJECTS[draft.actionType] && raw === null && (
            <OpenFieldAdder of={OPEN_OBJECTS[draft.actionType]!} onAdd={(name) => setOpenFields((a) => (a.includes(name) ? a : [...a, name]))} />
          )}
        </fieldset>

        <h3>Who decides</h3>
        <fieldset className="stage">
          <legend>Stage 1</legend>
          <ResolverPicker label="Reviewer" value={draft.primaryResolver} onChange={(v) => v && set('primaryResolver', v)} options={options} />
          <QuorumInput label="Approvals needed" value={draft.requiredApprovals} onChange={(v) => set('requiredApprovals', v)} />
          <ResolverPicker label="Fallback" value={draft.fallbackResolver ?? null} onChange={(v) => set('fallbackResolver', v)} options={options} optional fallback />
          <DurationInput label="Hand to the fallback after" seconds={draft.escalateAfterSeconds} onChange={(s) => set('escalateAfterSeconds', s)} />
          <label className="check">
            <input type="checkbox" checked={draft.allowSelfApproval ?? false} onChange={(e) => set('allowSelfApproval', e.target.checked)} />
            The person the agent acts for may approve
          </label>
        </fieldset>
        <StagesEditor stages={draft.nextStages ?? []} onChange={(v) => set('nextStages', v)} options={options} />
        <label className="check">
          <input type="checkbox" checked={draft.allowEdit ?? true} onChange={(e) => set('allowEdit', e.target.checked)} />
          Reviewers may edit the parameters before approving
        </label>

        <h3>Deadline</h3>
        <div className="row">
          <DurationInput label="Expires after" seconds={draft.expiresAfterSeconds} onChange={(s) => set('expiresAfterSeconds', s)} unit="days" />
          <label>
            When nobody decides before it expires
            <select value={draft.onExpiry ?? 'EXPIRE'} aria-describedby={expiryNote} onChange={(e) => set('onExpiry', e.target.value as ExpiryAction)}>
              <option value="EXPIRE">Expire it: nothing runs</option>
              <option value="APPROVE">Approve it: silence means yes</option>
            </select>
          </label>
        </div>
        {draft.onExpiry === 'APPROVE' ? (
          <p id={expiryNote} className="rule-warning">
            <strong>Silence means yes.</strong> {draft.expiresAfterSeconds ? 'A request nobody decides before the deadline is approved, and the action runs.' : 'Without an expiry this does nothing: set one above.'}
          </p>
        ) : (
          <p id={expiryNote} className="hint">
            {draft.expiresAfterSeconds ? 'The deadline covers every stage.' : 'Without an expiry, a request waits until someone decides it.'}
          </p>
        )}

        <label className="check">
          <input type="checkbox" checked={draft.enabled ?? true} onChange={(e) => set('enabled', e.target.checked)} />
          Enabled
        </label>
        {error && (
          <p role="alert" className="error">
            {error}
          </p>
        )}
        <div className="buttons">
          <button type="submit" disabled={createState.fetching || saveState.fetching}>
            {submitLabel ?? (initial ? 'Save' : 'Create rule')}
          </button>
          <button type="button" className="link" onClick={() => onDone()}>
            Cancel
          </button>
        </div>
      </form>
      <TestPanel input={input} ruleId={initial?.id ?? null} paramsSchema={actionTypes.find((a) => a.key === draft.actionType)?.paramsSchema} sample={sample} />
      {initial && <DeleteRuleSection id={initial.id} name={initial.name} onDeleted={onDone} />}
    </div>
  )
}

function QuorumInput({ label, value, onChange }: { label: string; value: number | null | undefined; onChange: (v: number) => void }) {
  return (
    <label className="quorum">
      {label}
      <input type="number" min={1} max={50} value={value ?? 1} onChange={(e) => onChange(Number(e.target.value) || 1)} />
      <span className="hint">each from a different reviewer</span>
    </label>
  )
}

/** The stages after the first: each with its reviewers, fallback, approvals needed and escalation time. */
function StagesEditor({ stages, onChange, options }: { stages: ApprovalStageInput[]; onChange: (v: ApprovalStageInput[]) => void; options: Options }) {
  const change = (i: number, patch: Partial<ApprovalStageInput>) => onChange(stages.map((s, j) => (j === i ? { ...s, ...patch } : s)))
  return (
    <fieldset className="stages">
      <legend>Next stages</legend>
      {stages.length === 0 && <p className="hint">One stage decides. Add a stage for a second sign-off (e.g. Legal after the manager).</p>}
      {stages.map((stage, i) => {
        const n = i + 2
        return (
          <fieldset key={i} className="stage">
            <legend>
              Stage {n}
              {stage.name ? `: ${stage.name}` : ''}
            </legend>
            <label>
              Stage {n} name
              <input value={stage.name ?? ''} placeholder="e.g. Legal" onChange={(e) => change(i, { name: e.target.value || null })} />
            </label>
            <ResolverPicker label={`Stage ${n} reviewers`} value={stage.primaryResolver} onChange={(v) => v && change(i, { primaryResolver: v })} options={options} />
            <QuorumInput label={`Stage ${n}: approvals needed`} value={stage.requiredApprovals} onChange={(v) => change(i, { requiredApprovals: v })} />
            <ResolverPicker label={`Stage ${n} fallback`} value={stage.fallbackResolver ?? null} onChange={(v) => change(i, { fallbackResolver: v })} options={options} optional fallback />
            <DurationInput label={`Stage ${n}: hand to the fallback after`} seconds={stage.escalateAfterSeconds} onChange={(s) => change(i, { escalateAfterSeconds: s })} />
            <button type="button" className="link" onClick={() => onChange(stages.filter((_, j) => j !== i))}>
              Remove stage {n}
            </button>
          </fieldset>
        )
      })}
      {stages.length < 9 && (
        <button type="button" onClick={() => onChange([...stages, { primaryResolver: { type: 'MANAGER' }, requiredApprovals: 1 }])}>
          Add a stage
        </button>
      )}
    </fieldset>
  )
}

function toDraft(rule: RuleDraft): RuleDraft {
  const { name, description, enabled, priority, resourceType, actionType, module, conditions, primaryResolver, fallbackResolver, expiresAfterSeconds, escalateAfterSeconds, allowSelfApproval, allowEdit, onExpiry, requiredApprovals, nextStages } = rule
  return { name, description, enabled, priority, resourceType, actionType, module, conditions, primaryResolver, fallbackResolver, expiresAfterSeconds, escalateAfterSeconds, allowSelfApproval, allowEdit, onExpiry, requiredApprovals, nextStages }
}

type TestResult = TestRuleQuery['testApprovalRule']

/** What a test of the draft found, in words. */
function describeTest(r: TestResult, enabled: boolean): string {
  const other = r.competingRule ? `“${r.competingRule.name}”` : null
  const error = r.conditionError ? ` Its conditions could not be evaluated (${r.conditionError}), and a rule that cannot tell gates the action.` : ''
  if (r.gates) return `Would gate this sample: it would wait for this rule's reviewers.${other ? ` This rule ranks above ${other}, which gates it now.` : ''}${error}`
  const instead = other ? `${other} gates it instead.` : 'No rule gates it: the action would run without approval.'
  if (r.applies) return `Would not gate this sample: ${other ?? 'another rule'} ranks higher and gates it.${error}`
  if (!r.conditionsHold) return `Would not gate this sample: the conditions do not hold for it. ${instead}`
  if (!enabled) return `Would not gate this sample: the rule is disabled. ${instead}`
  return `Would not gate this sample: it is for another module. ${instead}`
}

/** Tests the draft as it is in the editor (saved or not) on a sample action: would it gate it, and against which saved rule. */
function TestPanel({ input, ruleId, paramsSchema, sample }: { input: RuleDraft; ruleId: string | null; paramsSchema: unknown; sample?: { params: unknown; context: unknown } }) {
  const client = useClient()
  const example = useMemo(() => JSON.stringify(exampleFor(paramsSchema) ?? {}, null, 2), [paramsSchema])
  // a sample per action type: switching the action starts from what it accepts
  const [edited, setEdited] = useState<Record<string, string>>(() => (sample ? { [input.actionType]: JSON.stringify(sample.params, null, 2) } : {}))
  const params = edited[input.actionType] ?? example
  const [context, setContext] = useState(() => (sample?.context != null ? JSON.stringify(sample.context, null, 2) : ''))
  const [result, setResult] = useState<{ text: string; gates: boolean | null; for: string } | null>(null)
  const tested = JSON.stringify({ input, params, context })
  async function run() {
    let sample: { params: unknown; context: unknown }
    try {
      sample = { params: JSON.parse(params || '{}') as unknown, context: context.trim() ? (JSON.parse(context) as unknown) : null }
    } catch {
      return setResult({ text: 'The sample is not valid JSON.', gates: null, for: tested })
    }
    const res = await client
      .query(
        TestRule,
        { input, ruleId, sample: { resourceType: input.resourceType, actionType: input.actionType, module: input.module, params: sample.params, context: sample.context } },
        { requestPolicy: 'network-only' },
      )
      .toPromise()
    if (res.error || !res.data) return setResult({ text: res.error ? errorMessage(res.error) : 'No answer.', gates: null, for: tested })
    const r = res.data.testApprovalRule
    setResult({ text: describeTest(r, input.enabled ?? true), gates: r.gates, for: tested })
  }
  return (
    <section className="test-panel" aria-labelledby="rule-test-heading">
      <h3 id="rule-test-heading">Test this draft</h3>
      <p className="hint">Tries the rule as it is above, saved or not, on a sample {humanize(input.actionType).toLowerCase()} asked by you, against the saved rules.</p>
      <label>
        Sample parameters (JSON)
        <textarea rows={5} value={params} onChange={(e) => setEdited((s) => ({ ...s, [input.actionType]: e.target.value }))} />
      </label>
      <label>
        Sample context (JSON, optional)
        <textarea rows={2} value={context} onChange={(e) => setContext(e.target.value)} />
      </label>
      <button type="button" onClick={() => void run()}>
        Test the draft
      </button>
      <p role="status" className={`test-result ${result?.gates === true ? 'gates' : result?.gates === false ? 'passes' : ''}`}>
        {result?.text}
        {result && result.for !== tested && <span className="hint"> (The draft or sample changed since: test again.)</span>}
      </p>
    </section>
  )
}

/** Delete, away from the other controls and behind a confirmation whose safe choice has the focus. */
function DeleteRuleSection({ id, name, onDeleted }: { id: string; name: string; onDeleted: () => void }) {
  const [confirming, setConfirming] = useState(false)
  const [error, setError] = useState<string | null>(null)
  const [{ fetching }, remove] = useMutation(DeleteRule)
  const opener = useRef<HTMLButtonElement>(null)
  const wasConfirming = useRef(false)
  useEffect(() => {
    // back on the button that opened the question once it is answered "keep"
    if (wasConfirming.current && !confirming) opener.current?.focus()
    wasConfirming.current = confirming
  }, [confirming])
  async function confirm() {
    const result = await remove({ id }, { additionalTypenames: ['ApprovalRule'] })
    if (result.error) return setError(errorMessage(result.error))
    onDeleted()
  }
  return (
    <section className="rule-delete" aria-labelledby="rule-delete-heading">
      <h3 id="rule-delete-heading">Delete</h3>
      {!confirming ? (
        <>
          <p className="hint">Requests this rule created keep their copy of it. To stop it for a while, untick Enabled instead.</p>
          <button ref={opener} type="button" className="danger" onClick={() => setConfirming(true)}>
            Delete this rule…
          </button>
        </>
      ) : (
        <div role="alertdialog" aria-labelledby="rule-delete-question" aria-describedby="rule-delete-consequence" className="confirm-delete">
          <p id="rule-delete-question">
            <strong>Delete “{name}”?</strong>
          </p>
          <p id="rule-delete-consequence">Actions it gates will no longer wait for approval unless another rule gates them. This cannot be undone.</p>
          <div className="buttons">
            <button type="button" className="delete-confirm" disabled={fetching} onClick={() => void confirm()}>
              Delete the rule
            </button>
            <button type="button" autoFocus onClick={() => setConfirming(false)}>
              Keep it
            </button>
          </div>
        </div>
      )}
      {error && (
        <p role="alert" className="error">
          {error}
        </p>
      )}
    </section>
  )
}
