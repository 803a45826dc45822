// The words of the People and agents screen: what a change to someone's roles, manager or
// agents will do, shown before it is sent, and the date-time field's local format.

/** One line of a confirmation: a field, what it is, and what it becomes. */
export interface Change {
  field: string
  from: string
  to: string
}

/** Names in a stable order, joined for reading: "Manager, Member"; "None" when there are none. */
export function nameList(names: readonly string[]): string {
  return names.length ? [...names].sort((a, b) => a.localeCompare(b)).join(', ') : 'None'
}

/** Whether two lists hold the same items, in any order. */
export function sameSet(a: readonly string[], b: readonly string[]): boolean {
  const set = new Set(a)
  return set.size === new Set(b).size && b.every((x) => set.has(x))
}

/**
 * The changes between two states of a set of things named by id ("Roles", "Acts for"), or none
 * when the set stays as it is; `name` turns an id into what a person reads.
 */
export function setChange(field: string, before: readonly string[], after: readonly string[], name: (id: string) => string): Change[] {
  return sameSet(before, after) ? [] : [{ field, from: nameList(before.map(name)), to: nameList(after.map(name)) }]
}

/** The change of a single choice ("Manager"), or none; `null` reads as "None". */
export function choiceChange(field: string, before: string | null, after: string | null, name: (id: string) => string): Change[] {
  return (before ?? null) === (after ?? null) ? [] : [{ field, from: before ? name(before) : 'None', to: after ? name(after) : 'None' }]
}

const pad = (n: number) => String(n).padStart(2, '0')

/** An ISO instant as an `<input type="datetime-local">` value in the browser's time zone ("" for none). */
export function toLocalInput(iso: string | null | undefined): string {
  if (!iso) return ''
  const d = new Date(iso)
  return `${d.getFullYear()}-${pad(d.getMonth() + 1)}-${pad(d.getDate())}T${pad(d.getHours())}:${pad(d.getMinutes())}`
}

/** An `<input type="datetime-local">` value (local time) as an ISO instant, or null when empty. */
export function fromLocalInput(value: string): string | null {
  return value ? new Date(value).toISOString() : null
}
