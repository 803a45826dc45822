import { describe, expect, it } from 'vitest'
import { choiceChange, fromLocalInput, nameList, sameSet, setChange, toLocalInput } from './people'

const names: Record<string, string> = { member: 'Member', manager: 'Manager', admin: 'Admin', u1: 'Ada Admin', u2: 'Bo Boss' }
const name = (id: string) => names[id] ?? id

describe('the confirmation of a change', () => {
  it('lists a set that changes, sorted by name, and nothing for the same set in another order', () => {
    expect(setChange('Roles', ['member'], ['member', 'manager'], name)).toEqual([{ field: 'Roles', from: 'Member', to: 'Manager, Member' }])
    expect(setChange('Roles', ['member', 'manager'], ['manager', 'member'], name)).toEqual([])
    expect(setChange('Acts for', ['u1'], [], name)).toEqual([{ field: 'Acts for', from: 'Ada Admin', to: 'None' }])
  })

  it('lists a choice that changes, with "None" for no one', () => {
    expect(choiceChange('Manager', null, 'u2', name)).toEqual([{ field: 'Manager', from: 'None', to: 'Bo Boss' }])
    expect(choiceChange('Manager', 'u2', null, name)).toEqual([{ field: 'Manager', from: 'Bo Boss', to: 'None' }])
    expect(choiceChange('Manager', 'u1', 'u1', name)).toEqual([])
  })

  it('compares sets by their items', () => {
    expect(sameSet(['a', 'b'], ['b', 'a'])).toBe(true)
    expect(sameSet(['a', 'a'], ['a'])).toBe(true)
    expect(sameSet(['a'], ['a', 'b'])).toBe(false)
    expect(nameList([])).toBe('None')
  })
})

describe('the away-until field', () => {
  it('round-trips a minute in local time', () => {
    const iso = new Date(2030, 2, 4, 9, 5).toISOString()
    expect(toLocalInput(iso)).toBe('2030-03-04T09:05')
    expect(fromLocalInput('2030-03-04T09:05')).toBe(iso)
    expect(toLocalInput(null)).toBe('')
    expect(fromLocalInput('')).toBeNull()
  })
})
