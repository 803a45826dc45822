import { describe, expect, it } from 'vitest'
import { risksOf } from './risks'

const tool = (annotations: Record<string, boolean> | undefined, args: Record<string, unknown> = {}) => ({
  actionType: 'call_tool',
  params: { server: 'files', tool: 'write_file', arguments: args },
  context: { tool: { server: 'files', name: 'write_file', ...(annotations ? { annotations } : {}) } },
})

const kinds = (request: Parameters<typeof risksOf>[0]) => risksOf(request).map((r) => r.kind)

describe('risksOf', () => {
  it('a tool call is destructive when its server says so, or says nothing (MCP defaults), not when read-only or marked harmless', () => {
    expect(risksOf(tool({ destructiveHint: true }))).toEqual([{ kind: 'destructive', text: 'Its server marks the tool as destructive: it may change or delete things' }])
    expect(kinds(tool(undefined))).toEqual(['destructive'])
    expect(kinds(tool({ openWorldHint: true }))).toEqual(['destructive'])
    expect(kinds(tool({ readOnlyHint: true }))).toEqual([])
    expect(kinds(tool({ readOnlyHint: true, destructiveHint: true }))).toEqual([])
    expect(kinds(tool({ destructiveHint: false }))).toEqual([])
    // a description of another tool than the one called says nothing of it
    expect(kinds({ ...tool({ readOnlyHint: true }), params: { server: 'files', tool: 'delete_file', arguments: {} } })).toEqual(['destructive'])
  })

  it('names money: amount-like fields, with their currency, anywhere in the params', () => {
    expect(risksOf(tool({ destructiveHint: false }, { customer: 'Acme', amount: 1200, currency: 'EUR' }))).toEqual([{ kind: 'money', text: 'Money: amount 1200 EUR' }])
    expect(risksOf({ actionType: 'pay', params: { lines: [{ unitPrice: '$19.90' }], total_cost: '1 200' } })).toEqual([{ kind: 'money', text: 'Money: unitPrice $19.90, total_cost 1 200' }])
    expect(risksOf({ actionType: 'update_record', params: { recordId: 'r', data: { price: { value: 5, currency: 'USD' } } } })).toEqual([{ kind: 'money', text: 'Money: value 5 USD' }])
    expect(risksOf({ actionType: 'browse_website', params: { url: 'https://shop.test', mayPay: true } })).toEqual([{ kind: 'money', text: 'Money: it may pay on the site' }])
    // not money: a count that ends otherwise, a name, no amount at all
    expect(kinds({ actionType: 'x', params: { totalPages: 3, costCenter: '1234', amount: 'a lot', priceList: 'spring' } })).toEqual([])
  })

  it('names a change of a record\'s owner, and not an update that leaves it', () => {
    const rita = { id: 'u-rita', name: 'Rita' }
    const ada = { id: 'u-ada', name: 'Ada' }
    const update = { actionType: 'update_record', params: { recordId: 'r', data: {}, ownerId: 'u-rita' } }
    expect(risksOf({ ...update, proposedOwner: rita, record: { owner: ada } })).toEqual([{ kind: 'owner', text: 'Changes the owner: Ada → Rita' }])
    expect(risksOf({ ...update, params: { ...update.params, ownerId: null }, proposedOwner: null, record: { owner: ada } })).toEqual([{ kind: 'owner', text: 'Changes the owner: Ada → nobody' }])
    expect(risksOf({ ...update, proposedOwner: rita, record: null })).toEqual([{ kind: 'owner', text: "Changes the record's owner to Rita" }])
    expect(kinds({ ...update, proposedOwner: rita, record: { owner: rita } })).toEqual([])
    expect(kinds({ actionType: 'update_record', params: { recordId: 'r', data: { stage: 'won' } }, record: { owner: ada } })).toEqual([])
  })

  it('names what goes public: a social post, a published page', () => {
    expect(risksOf({ actionType: 'post_to_social', params: { platform: 'x', text: 'Hi' } })).toEqual([{ kind: 'public', text: 'Public: posts on x' }])
    expect(risksOf({ actionType: 'create_landing_page', params: { title: 'Spring', slug: 'spring' } })).toEqual([{ kind: 'public', text: 'Public: publishes the page /spring' }])
    expect(kinds({ actionType: 'send_email', params: { to: ['a@b.test'], subject: 'Hi', body: 'Hello' } })).toEqual([])
  })
})
