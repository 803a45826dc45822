// @vitest-environment happy-dom
import { cleanup, render, screen, within } from '@testing-library/react'
import { afterEach, describe, expect, it } from 'vitest'
import { OwnerChange, ParamsView } from './ParamsView'

afterEach(cleanup)

describe('ParamsView', () => {
  it('shows a social post with its length against the platform limit, and a schedule in the past flagged', () => {
    render(<ParamsView actionType="post_to_social" params={{ platform: 'x', text: 'a'.repeat(290), scheduledAt: '2020-01-01T09:00:00Z' }} />)
    const post = screen.getByLabelText('Post')
    expect(post.querySelector('.post-length')!.textContent).toBe('290 characters of 280 — 10 over the limit')
    expect(post.querySelector('.post-length')!.className).toContain('over')
    expect(within(post).getByText(/in the past/)).toBeTruthy()
  })

  it('shows a landing page in a sandboxed preview that runs no scripts, and calls out scripts from other sites', () => {
    const html = '<h1>Spring</h1><script src="https://tracker.example/t.js"></script><script>alert(1)</script>'
    render(<ParamsView actionType="create_landing_page" params={{ title: 'Spring', slug: 'spring', html }} />)
    const page = screen.getByLabelText('Landing page')
    const frame = page.querySelector('iframe')!
    expect(frame.getAttribute('sandbox')).toBe('')
    expect(frame.getAttribute('srcdoc')).toBe(html)
    expect(within(page).getByText(/loads scripts from other sites: tracker\.example/)).toBeTruthy()
    expect(within(page).getByText('/spring')).toBeTruthy()
  })

  it('shows a browsing task with what it may do in plain words', () => {
    render(<ParamsView actionType="browse_website" params={{ url: 'https://shop.example', instructions: 'Buy the cheapest', mayFillForms: true, mayPay: true }} />)
    const task = screen.getByLabelText('Browsing task')
    expect(within(task).getByText('https://shop.example')).toBeTruthy()
    expect(within(task).getByText('yes — it may spend money')).toBeTruthy()
    expect(within(task).getByText('any site')).toBeTruthy()
  })

  it("shows an MCP tool call with the tool's title and description, and its arguments by the tool's schema, hiding none", () => {
    const params = { server: 'files', tool: 'write_file', arguments: { content: 'Hello', path: 'notes.txt', mode: 'append' } }
    const context = {
      tool: {
        server: 'files',
        name: 'write_file',
        title: 'Write a file',
        description: 'Writes text to a file.',
        inputSchema: { type: 'object', properties: { path: { type: 'string', description: 'The file' }, content: { type: 'string' }, encoding: { type: 'string' } } },
        annotations: { destructiveHint: true },
      },
    }
    render(<ParamsView actionType="call_tool" params={params} context={context} />)
    const call = screen.getByLabelText('Tool call')
    expect(within(call).getByText('MCP tool of files')).toBeTruthy()
    expect(within(call).getByText('Write a file')).toBeTruthy()
    expect(within(call).getByLabelText('What the tool does').textContent).toBe('Writes text to a file.')
    expect(within(call).getByText(/may change or delete things/)).toBeTruthy()
    const rows = [...within(call).getByLabelText('Arguments').querySelectorAll('dt')].map((dt) => [dt.textContent, dt.nextElementSibling!.textContent])
    expect(rows).toEqual([
      ['pathThe file', 'notes.txt'],
      ['content', 'Hello'],
      ['encoding', 'not given'],
      ["modenot in the tool's schema", 'append'],
    ])
  })

  it("ignores a context that describes another tool than the one called", () => {
    const context = { tool: { server: 'files', name: 'read_file', title: 'Read a file', inputSchema: { type: 'object', properties: {} } } }
    render(<ParamsView actionType="call_tool" params={{ server: 'files', tool: 'delete_file', arguments: { path: 'a' } }} context={context} />)
    const call = screen.getByLabelText('Tool call')
    expect(within(call).getByText('delete_file')).toBeTruthy()
    expect(within(call).queryByText('Read a file')).toBeNull()
    expect(within(call).getByText('path')).toBeTruthy()
  })

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

  it('shows a custom action type as its fields, with nested values as formatted JSON', () => {
    const { container } = render(<ParamsView actionType="run_sql" params={{ database: 'billing', steps: [{ click: '#buy' }] }} />)
    expect(screen.getByText('billing')).toBeTruthy()
    expect(container.querySelector('pre.json')!.textContent).toBe(JSON.stringify([{ click: '#buy' }], null, 2))
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
