// The filters the inbox and the history share: the action, the rule, who asked and for whom.
import { useQuery } from 'urql'
import { graphql } from '../gql'
import { useSession } from '../lib/auth'
import { humanize } from '../lib/format'

const FilterOptions = graphql(`
  query RequestFilterOptions {
    actionTypes {
      key
    }
    users {
      id
      name
    }
    agents {
      id
      name
    }
  }
`)

const RuleOptions = graphql(`
  query RequestRuleOptions {
    approvalRules {
      id
      name
    }
  }
`)

export type Principal = { id: string; name: string }

/** The choices of the filters: action types, people and agents, and (for rule managers) the rules. */
export function useFilterOptions() {
  const session = useSession()
  const [{ data }] = useQuery({ query: FilterOptions })
  const [{ data: rules }] = useQuery({ query: RuleOptions, pause: !session.can('approval:manage') })
  return {
    actionTypes: data?.actionTypes.map((a) => a.key) ?? [],
    users: data?.users ?? [],
    agents: data?.agents ?? [],
    rules: rules?.approvalRules ?? null,
  }
}

export function PrincipalFilter({ label, value, onChange, principals }: { label: string; value: string; onChange: (id: string) => void; principals: Principal[] }) {
  return (
    <label>
      {label}
      <select value={value} onChange={(e) => onChange(e.target.value)}>
        <option value="">Anyone</option>
        {principals.map((p) => (
          <option key={p.id} value={p.id}>
            {p.name}
          </option>
        ))}
      </select>
    </label>
  )
}

export function ActionFilter({ value, onChange, actionTypes }: { value: string; onChange: (key: string) => void; actionTypes: string[] }) {
  return (
    <label>
      Action
      <select value={value} onChange={(e) => onChange(e.target.value)}>
        <option value="">Any</option>
        {actionTypes.map((key) => (
          <option key={key} value={key}>
            {humanize(key)}
          </option>
        ))}
      </select>
    </label>
  )
}

export function RuleFilter({ value, onChange, rules }: { value: string; onChange: (id: string) => void; rules: Principal[] }) {
  return (
    <label>
      Rule
      <select value={value} onChange={(e) => onChange(e.target.value)}>
        <option value="">Any</option>
        {rules.map((r) => (
          <option key={r.id} value={r.id}>
            {r.name}
          </option>
        ))}
      </select>
    </label>
  )
}
