import { useMemo, useState, type FormEvent } from 'react'
import { QueryBuilder, type RuleGroupType } from 'react-querybuilder'
import { useClient, useMutation, useQuery } from 'urql'
import { graphql } from '../gql'
import type { ApprovalRuleInput, ApprovalStageInput, ExpiryAction, ResolverInput, ResolverType, ResourceType, RuleEditorOptionsQuery } from '../gql/graphql'
import { CONDITION_FIELDS, jsonLogicFromQuery, queryFromJsonLogic } from '../lib/conditions'
import { humanize } from '../lib/format'

export type RuleDraft = ApprovalRuleInput

const EditorOptions = graphql(`
  query RuleEditorOptions {
    actionTypes {
      key
      resourceType
      description
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

const SaveRule = graphql(`
  mutation SaveRule($id: ID!, $input: ApprovalRuleInput!) {
    updateApprovalRule(id: $id, input: $input) {
      id
      version
    }
  }
`)

const MatchRule = graphql(`
  query MatchRule($input: RequestApprovalInput!) {
    matchApprovalRule(input: $input) {
      id
      name
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

function ResolverPicker({ label, value, onChange, options, optional }: { label: string; value: ResolverInput | null; onChange: (v: ResolverInput | null) => void; options: Options; optional?: boolean }) {
  const type = value?.type ?? ''
  return (
    <fieldset className="resolver">
      <legend>{label}</legend>
      <select
        aria-label={`${label} type`}
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
      {type === 'AUTO_APPROVE' && (
        <label>
          after
          <input type="number" min={0} aria-label={`${label} delay in seconds`} value={value?.delaySeconds ?? 0} onChange={(e) => onChange({ type: 'AUTO_APPROVE', delaySeconds: Number(e.target.value) })} />
          seconds
        </label>
      )}
    </fieldset>
  )
}

const optionalNumber = (v: string) => (v.trim() === '' ? null : Number(v))

export function RuleEditor({ rule: initial, onDone }: { rule: (RuleDraft & { id: string }) | null; onDone: () => void }) {
  const [{ data: options }] = useQuery({ query: EditorOptions })
  const [draft, setDraft] = useState<RuleDraft>(() =>
    initial
      ? toDraft(initial)
      : { name: '', resourceType: 'AGENT_ACTION', actionType: 'send_email', primaryResolver: { type: 'MANAGER' }, fallbackResolver: null, enabled: true, priority: 0, allowSelfApproval: false, allowEdit: true, onExpiry: 'EXPIRE', requiredApprovals: 1, nextStages: [] },
  )
  const [query, setQuery] = useState<RuleGroupType>(() => queryFromJsonLogic(initial?.conditions))
  const [error, setError] = useState<string | null>(null)
  const [createState, create] = useMutation(CreateRule)
  const [saveState, save] = useMutation(SaveRule)
  const set = <K extends keyof RuleDraft>(key: K, value: RuleDraft[K]) => setDraft((d) => ({ ...d, [key]: value }))
  const actionTypes = options?.actionTypes ?? []

  async function submit(e: FormEvent) {
    e.preventDefault()
    setError(null)
    const input: RuleDraft = { ...draft, conditions: jsonLogicFromQuery(query) }
    const result = initial ? await save({ id: initial.id, input }, { additionalTypenames: ['ApprovalRule'] }) : await create({ input }, { additionalTypenames: ['ApprovalRule'] })
    if (result.error) {
      const first = result.error.graphQLErrors[0]
      setError(first ? `${first.message}${first.extensions?.field ? ` (${String(first.extensions.field).replace(/^input\./, '')})` : ''}` : result.error.message)
      return
    }
    onDone()
  }

  return (
    <form className="rule-editor" onSubmit={submit} aria-label={initial ? `Edit ${initial.name}` : 'New rule'}>
      <h2>{initial ? `Edit “${initial.name}”` : 'New rule'}</h2>
      <label>
        Name
        <input value={draft.name} onChange={(e) => set('name', e.target.value)} required />
      </label>
      <label>
        Description
        <input value={draft.description ?? ''} onChange={(e) => set('description', e.target.value || null)} />
      </label>
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
        <QueryBuilder fields={CONDITION_FIELDS} query={query} onQueryChange={setQuery} controlClassnames={{ queryBuilder: 'qb' }} />
      </fieldset>
      <ResolverPicker label="Reviewer" value={draft.primaryResolver} onChange={(v) => v && set('primaryResolver', v)} options={options} />
      <ResolverPicker label="Fallback" value={draft.fallbackResolver ?? null} onChange={(v) => set('fallbackResolver', v)} options={options} optional />
      <div className="row">
        <label>
          Expires after (seconds)
          <input type="number" min={1} value={draft.expiresAfterSeconds ?? ''} placeholder="never" onChange={(e) => set('expiresAfterSeconds', optionalNumber(e.target.value))} />
        </label>
        <label>
          Escalate after (seconds)
          <input type="number" min={1} value={draft.escalateAfterSeconds ?? ''} placeholder="never" onChange={(e) => set('escalateAfterSeconds', optionalNumber(e.target.value))} />
        </label>
      </div>
      <label>
        Approvals needed
        <input type="number" min={1} max={50} value={draft.requiredApprovals ?? 1} onChange={(e) => set('requiredApprovals', Number(e.target.value) || 1)} />
      </label>
      <StagesEditor stages={draft.nextStages ?? []} onChange={(v) => set('nextStages', v)} options={options} />
      <label className="check">
        <input type="checkbox" checked={draft.allowSelfApproval ?? false} onChange={(e) => set('allowSelfApproval', e.target.checked)} />
        The person the agent acts for may approve
      </label>
      <label className="check">
        <input type="checkbox" checked={draft.allowEdit ?? true} onChange={(e) => set('allowEdit', e.target.checked)} />
        Reviewers may edit the parameters before approving
      </label>
      <label>
        When nobody decides before it expires
        <select value={draft.onExpiry ?? 'EXPIRE'} onChange={(e) => set('onExpiry', e.target.value as ExpiryAction)}>
          <option value="EXPIRE">Expire it: nothing runs</option>
          <option value="APPROVE">Approve it: silence means yes</option>
        </select>
      </label>
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
          {initial ? 'Save' : 'Create rule'}
        </button>
        <button type="button" className="link" onClick={onDone}>
          Cancel
        </button>
      </div>
      <TestPanel draft={draft} ruleId={initial?.id ?? null} />
    </form>
  )
}

/** The stages after the first: each with its reviewers, fallback, approvals needed and escalation time. */
function StagesEditor({ stages, onChange, options }: { stages: ApprovalStageInput[]; onChange: (v: ApprovalStageInput[]) => void; options: Options }) {
  const change = (i: number, patch: Partial<ApprovalStageInput>) => onChange(stages.map((s, j) => (j === i ? { ...s, ...patch } : s)))
  return (
    <fieldset className="stages">
      <legend>Next stages</legend>
      {stages.map((stage, i) => (
        <fieldset key={i} className="stage">
          <legend>Stage {i + 2}</legend>
          <label>
            Name
            <input value={stage.name ?? ''} placeholder="e.g. Legal" onChange={(e) => change(i, { name: e.target.value || null })} />
          </label>
          <ResolverPicker label={`Stage ${i + 2} reviewers`} value={stage.primaryResolver} onChange={(v) => v && change(i, { primaryResolver: v })} options={options} />
          <ResolverPicker label={`Stage ${i + 2} fallback`} value={stage.fallbackResolver ?? null} onChange={(v) => change(i, { fallbackResolver: v })} options={options} optional />
          <div className="row">
            <label>
              Approvals needed
              <input type="number" min={1} max={50} value={stage.requiredApprovals ?? 1} onChange={(e) => change(i, { requiredApprovals: Number(e.target.value) || 1 })} />
            </label>
            <label>
              Escalate after (seconds)
              <input type="number" min={1} value={stage.escalateAfterSeconds ?? ''} placeholder="never" onChange={(e) => change(i, { escalateAfterSeconds: optionalNumber(e.target.value) })} />
            </label>
          </div>
          <button type="button" className="link" onClick={() => onChange(stages.filter((_, j) => j !== i))}>
            Remove stage {i + 2}
          </button>
        </fieldset>
      ))}
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

/** Runs matchApprovalRule on sample parameters: which saved rule would gate them. */
function TestPanel({ draft, ruleId }: { draft: RuleDraft; ruleId: string | null }) {
  const client = useClient()
  const [params, setParams] = useState('{\n  "to": "someone@example.com"\n}')
  const [context, setContext] = useState('')
  const [result, setResult] = useState<string | null>(null)
  const parsed = useMemo(() => {
    try {
      return { params: JSON.parse(params || '{}') as unknown, context: context.trim() ? (JSON.parse(context) as unknown) : null }
    } catch {
      return null
    }
  }, [params, context])
  async function run() {
    if (!parsed) return setResult('The sample is not valid JSON.')
    const res = await client
      .query(MatchRule, { input: { resourceType: draft.resourceType, actionType: draft.actionType, module: draft.module, params: parsed.params, context: parsed.context } }, { requestPolicy: 'network-only' })
      .toPromise()
    if (res.error) return setResult(res.error.graphQLErrors[0]?.message ?? res.error.message)
    const match = res.data?.matchApprovalRule
    setResult(!match ? 'No rule matches: the action would proceed without approval.' : match.id === ruleId ? `This rule matches (${match.name}).` : `Another rule matches first: ${match.name}.`)
  }
  return (
    <fieldset className="test-panel">
      <legend>Test the saved rules</legend>
      <label>
        Sample parameters (JSON)
        <textarea rows={4} value={params} onChange={(e) => setParams(e.target.value)} />
      </label>
      <label>
        Sample context (JSON, optional)
        <textarea rows={2} value={context} onChange={(e) => setContext(e.target.value)} />
      </label>
      <button type="button" onClick={() => void run()}>
        Test
      </button>
      {result && <p role="status">{result}</p>}
    </fieldset>
  )
}
