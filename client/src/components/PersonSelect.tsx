// A select of people (or agents) whose first choice names nobody: "No manager", "Anyone",
// "Nobody: the rules' fallbacks". The People page, the availability menu and the filters use it.
import type { SelectHTMLAttributes } from 'react'

type Person = { id: string; name: string }

export function PersonSelect({
  people,
  none,
  exclude,
  value,
  onChange,
  ...props
}: {
  people: readonly Person[]
  /** The first choice, meaning nobody (its value is ''). */
  none: string
  /** Someone not to offer (the person being edited, the viewer). */
  exclude?: string | null
  value: string
  onChange: (id: string) => void
} & Omit<SelectHTMLAttributes<HTMLSelectElement>, 'value' | 'onChange'>) {
  return (
    <select {...props} value={value} onChange={(e) => onChange(e.target.value)}>
      <option value="">{none}</option>
      {people
        .filter((p) => p.id !== exclude)
        .map((p) => (
          <option key={p.id} value={p.id}>
            {p.name}
          </option>
        ))}
    </select>
  )
}
