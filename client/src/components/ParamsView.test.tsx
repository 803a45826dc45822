// @vitest-environment happy-dom
import { cleanup, render, screen, within } from '@testing-library/react'
import { afterEach, describe, expect, it } from 'vitest'
import { ParamsView } from './ParamsView'

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
