// @vitest-environment happy-dom
import { cleanup, render, screen, within } from '@testing-library/react'
import { afterEach, describe, expect, it } from 'vitest'
import { OwnerChange, ParamsView } from './ParamsView'

afterEach(cleanup)

describe('ParamsView', () => {
  it('shows an email as to, subject and body', () => {
    render(<ParamsView actionType="send_email" params={{ to: ['a@x.test', 'b@x.test'], subject: 'Offer', body: 'Hello\nthere', trackOpens: true }} />)
    const email = screen.getByLabelText('Email')
    expect(within(email).getByText('a@x.test, b@x.test')).toBeTruthy()
    expect(within(email).getByText('Offer')).toBeTruthy()
    expect(email.querySelector('.email-body')!.textContent).toBe('Hello\nthere')
    // other parameters are not hidden
    expect(within(email).getByText('trackOpens')).toBeTruthy()
  })

  it('says so when an email has no subject', () => {
    render(<ParamsView actionType="send_email" params={{ to: 'a@x.test' }} />)
    expect(screen.getByText('no subject')).toBeTruthy()
  })

  it('shows a record mutation as the record fields', () => {
    render(<ParamsView actionType="create_record" params={{ data: { name: 'Acme', value: 5000, tags: ['a'] }, ownerId: null }} />)
    const record = screen.getByLabelText('Record')
    expect(within(record).getByText('name')).toBeTruthy()
    expect(within(record).getByText('Acme')).toBeTruthy()
    expect(within(record).getByText('5000')).toBeTruthy()
    expect(record.querySelector('pre')!.textContent).toContain('"a"')
    expect(screen.queryByText('ownerId')).toBeNull()
  })

  it('falls back to formatted JSON for nested parameters of other actions', () => {
    const { container } = render(<ParamsView actionType="browse_website" params={{ url: 'https://x.test', steps: [{ click: '#buy' }] }} />)
    expect(container.querySelector('pre.json')!.textContent).toBe(JSON.stringify({ url: 'https://x.test', steps: [{ click: '#buy' }] }, null, 2))
  })
})

describe('OwnerChange', () => {
  const bob = { id: 'b', name: 'Bob' }
  const alice = { id: 'a', name: 'Alice' }
  it("shows an agent's proposed change of a record's owner, from whom to whom", () => {
    render(<OwnerChange request={{ actionType: 'update_record', params: { recordId: 'r', data: {}, ownerId: 'b' }, proposedOwner: bob, record: { owner: alice } }} />)
    expect(screen.getByRole('note').textContent).toBe('Changes the owner: Alice → Bob')
  })

  it('says nothing when the update leaves the owner as it is', () => {
    const { container } = render(<OwnerChange request={{ actionType: 'update_record', params: { recordId: 'r', data: {} }, proposedOwner: null, record: { owner: alice } }} />)
    expect(container.textContent).toBe('')
    render(<OwnerChange request={{ actionType: 'update_record', params: { recordId: 'r', data: {}, ownerId: 'a' }, proposedOwner: alice, record: { owner: alice } }} />)
    expect(screen.queryByRole('note')).toBeNull()
  })

  it("names a new record's owner", () => {
    render(<OwnerChange request={{ actionType: 'create_record', params: { module: 'deals', data: {}, ownerId: 'b' }, proposedOwner: bob }} />)
    expect(screen.getByText('Bob')).toBeTruthy()
  })
})
