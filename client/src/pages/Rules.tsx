import { Link, useLocation } from 'wouter'
import { useQuery } from 'urql'
import { ModuleVisibility } from '../components/ModuleVisibility'
import { RuleEditor, type RuleDraft } from '../components/RuleEditor'
import { RuleSwitch } from '../components/RuleSwitch'
import { getFragmentData, graphql, type FragmentType } from '../gql'
import { formatDuration } from '../lib/durations'
import { errorMessage, humanize } from '../lib/format'

export const RulesQuery = graphql(`
  query Rules {
    approvalRules {
      id
      name
      description
      enabled
      priority
      resourceType
      actionType
      module
      conditions
      conditionWarnings
      expiresAfterSeconds
      escalateAfterSeconds
      allowSelfApproval
      allowEdit
      onExpiry
      requiredApprovals
      nextStages {
        name
        requiredApprovals
        escalateAfterSeconds
        primaryResolver {
          ...ResolverFields
        }
        fallbackResolver {
          ...ResolverFields
        }
      }
      version
      primaryResolver {
        ...ResolverFields
      }
      fallbackResolver {
        ...ResolverFields
      }
    }
  }
`)

const ResolverFields = graphql(`
  fragment ResolverFields on ResolverSpec {
    type
    delaySeconds
    roleKey
    user {
      id
      name
    }
    agent {
      id
      name
    }
  }
`)

type Rule = NonNullable<ReturnType<typeof useRules>['rules']>[number]

function useRules() {
  const [{ data, fetching, error }] = useQuery({ query: RulesQuery })
  return { rules: data?.approvalRules, fetching, error }
}

function describeResolver(ref: FragmentType<typeof ResolverFields> | null | undefined): string {
  const r = getFragmentData(ResolverFields, ref)
  if (!r) return ''
  switch (r.type) {
    case 'NAMED_USER':
      return r.user?.name ?? 'a user'
    case 'ROLE':
      return `anyone with the role ${r.roleKey}`
    case 'AGENT':
      return `agent ${r.agent?.name ?? ''}`
    case 'AUTO_APPROVE':
      return r.delaySeconds ? `auto-approve after ${formatDuration(r.delaySeconds)}` : 'auto-approve at once'
    case 'MANAGER':
      return "the requester's manager"
    case 'RECORD_OWNER':
      return "the record's owner"
    default:
      return r.type
  }
}

/** The input that recreates a rule as it is, for toggles that change one field. */
export function draftFromRule(rule: Rule): RuleDraft {
  const resolver = (ref: FragmentType<typeof ResolverFields>) => {
    const r = getFragmentData(ResolverFields, ref)
    return {
      type: r.type,
      userId: r.user?.id ?? null,
      roleKey: r.roleKey ?? null,
      agentId: r.agent?.id ?? null,
      delaySeconds: r.delaySeconds ?? null,
    }
  }
  return {
    name: rule.name,
    description: rule.description ?? null,
    enabled: rule.enabled,
    priority: rule.priority,
    resourceType: rule.resourceType,
    actionType: rule.actionType,
    module: rule.module ?? null,
    conditions: rule.conditions ?? null,
    primaryResolver: resolver(rule.primaryResolver),
    fallbackResolver: rule.fallbackResolver ? resolver(rule.fallbackResolver) : null,
    expiresAfterSeconds: rule.expiresAfterSeconds ?? null,
    escalateAfterSeconds: rule.escalateAfterSeconds ?? null,
    allowSelfApproval: rule.allowSelfApproval,
    allowEdit: rule.allowEdit,
    onExpiry: rule.onExpiry,
    requiredApprovals: rule.requiredApprovals,
    nextStages: rule.nextStages.map((stage) => ({
      name: stage.name ?? null,
      requiredApprovals: stage.requiredApprovals,
      escalateAfterSeconds: stage.escalateAfterSeconds ?? null,
      primaryResolver: resolver(stage.primaryResolver),
      fallbackResolver: stage.fallbackResolver ? resolver(stage.fallbackResolver) : null,
    })),
  }
}

export function RulesPage({ selectedId }: { selectedId?: string }) {
  const { rules, fetching, error } = useRules()
  const [, navigate] = useLocation()
  const editing = selectedId === 'new' ? null : rules?.find((r) => r.id === selectedId)
  return (
    <div className={`split ${selectedId ? 'has-detail' : ''}`}>
      <section className="list wide" aria-label="Rules">
        <h1>
          Rules
          <Link href="/rules/new" className="button">
            New rule
          </Link>
        </h1>
        {error && <p className="state error">Could not load the rules: {errorMessage(error)}</p>}
        {fetching && !rules && <p className="state">Loading…</p>}
        {rules?.length === 0 && <p className="state empty">No rule yet: every action proceeds without approval. Create one to gate an action.</p>}
        <ul className="rules">
          {rules?.map((r) => (
            <li key={r.id} className={`${r.id === selectedId ? 'selected' : ''} ${r.enabled ? '' : 'disabled'}`}>
              <div>
                <Link href={`/rules/${encodeURIComponent(r.id)}`}>
                  <strong>{r.name}</strong>
                </Link>
                {!r.enabled && <span className="rule-off">Disabled</span>}
                {r.conditionWarnings.length > 0 && <span className="rule-flag">Conditions need a look</span>}
                <p className="meta">
                  {humanize(r.actionType)}
                  {r.module && <> in {r.module}</>}
                  {r.conditions ? ' when conditions hold' : ''} → {describeResolver(r.primaryResolver)}
                  {r.requiredApprovals > 1 && <> ({r.requiredApprovals} approvals)</>}
                  {r.fallbackResolver && <>, else {describeResolver(r.fallbackResolver)}</>}
                  {r.nextStages.length > 0 && <>, then {r.nextStages.length === 1 ? 'one more stage' : `${r.nextStages.length} more stages`}</>}
                  {r.expiresAfterSeconds && <> · expires after {formatDuration(r.expiresAfterSeconds)}{r.onExpiry === 'APPROVE' ? ', then approved' : ''}</>} · priority {r.priority}
                </p>
              </div>
              <RuleSwitch id={r.id} name={r.name} enabled={r.enabled} version={r.version} draft={() => draftFromRule(r)} />
            </li>
          ))}
        </ul>
        <ModuleVisibility ruleModules={rules?.map((r) => r.module) ?? []} />
      </section>
      {selectedId && (selectedId === 'new' || editing) && (
        <section className="detail" aria-label="Rule editor">
          <RuleEditor
            key={selectedId}
            rule={editing ? { id: editing.id, ...draftFromRule(editing) } : null}
            warnings={editing?.conditionWarnings}
            onDone={() => navigate('/rules')}
          />
        </section>
      )}
    </div>
  )
}
