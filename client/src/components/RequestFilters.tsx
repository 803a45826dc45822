// The filters the inbox and the history share: the action, the rule, who asked and for whom.
import { useQuery } from 'urql'
import { graphql } from '../gql'
import { useSession } from '../lib/auth'
import { humanize } from '../lib/format'
import { PersonSelect } from './PersonSelect'

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

/** One filter: a select whose first choice ("Any", "Anyone") leaves it off. */
function FilterSelect({ label, any, value, onChange, choices }: { label: string; any: string; value: string; onChange: (v: string) => void; choices: { value: string; label: string }[] }) {
  return (
    <label>
      {label}
      <select value={value} onChange={(e) => onChange(e.target.value)}>
        <option value="">{any}</option>
        {choices.map((c) => (
          <option key={c.value} value={c.value}>
            {c.label}
          </option>
        ))}
      </select>
    </label>
  )
}

const byId = (items: Principal[]) => items.map((p) => ({ value: p.id, label: p.name }))

export function PrincipalFilter({ label, value, onChange, principals }: { label: string; value: string; onChange: (id: string) => void; principals: Principal[] }) {
  return (
    <label>
      {label}
      <PersonSelect value={value} onChange={onChange} people={principals} none="Anyone" />
    </label>
  )
}

export function ActionFilter({ value, onChange, actionTypes }: { value: string; onChange: (key: string) => void; actionTypes: string[] }) {
  return <FilterSelect label="Action" any="Any" value={value} onChange={onChange} choices={actionTypes.map((key) => ({ value: key, label: humanize(key) }))} />
}

export function RuleFilter({ value, onChange, rules }: { value: string; onChange: (id: string) => void; rules: Principal[] }) {
  return <FilterSelect label="Rule" any="Any" value={value} onChange={onChange} choices={byId(rules)} />
}
