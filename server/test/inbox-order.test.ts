// The inbox's order (OLDEST by default, NEWEST, DEADLINE) and its true count, past any page.
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { codes, createAgentWithToken, createRule, createUserWithToken, startServer, type TestServer } from './harness.js'

let server: TestServer
let rita: { id: string; token: string }
let agent: { id: string; token: string }
const ids: Record<string, string> = {}

beforeAll(async () => {
  server = await startServer()
  rita = await createUserWithToken(server, { email: 'rita@example.com', name: 'Rita', roleKeys: ['member'] })
  agent = await createAgentWithToken(server, { name: 'Mailer' })
  const rule = (module: string, expiresAfterSeconds: number | null) =>
    createRule(server, { name: module, resourceType: 'AGENT_ACTION', actionType: 'send_email', module, primaryResolver: { type: 'NAMED_USER', userId: rita.id }, expiresAfterSeconds })
  await rule('day', 86_400)
  await rule('hour', 3600)
  await rule('never', null)
  // asked in this order: never, day, hour
  for (const module of ['never', 'day', 'hour']) {
    const res = await server.gql(
      `mutation($i: RequestApprovalInput!) { requestApproval(input: $i) { request { id } } }`,
      { i: { resourceType: 'AGENT_ACTION', actionType: 'send_email', module, params: { to: 'a@example.com', subject: module, body: 'x' } } },
      agent.token,
    )
    ids[module] = res.data.requestApproval.request.id
  }
})
afterAll(async () => {
  await server?.destroy()
})

const INBOX = `query($o: InboxOrder, $first: Int) { approvalInboxCount approvalInbox(first: $first, order: $o) { edges { node { id } } } }`
const order = async (o?: string, first = 10) => {
  const res = await server.gql(INBOX, { o, first }, rita.token)
  expect(res.errors).toBeUndefined()
  return { count: res.data.approvalInboxCount, ids: res.data.approvalInbox.edges.map((e: { node: { id: string } }) => e.node.id) }
}

describe('the inbox order and count', () => {
  it('oldest first by default; newest first; the nearest deadline first, those without one last', async () => {
    expect((await order()).ids).toEqual([ids.never, ids.day, ids.hour])
    expect((await order('NEWEST')).ids).toEqual([ids.hour, ids.day, ids.never])
    expect((await order('DEADLINE')).ids).toEqual([ids.hour, ids.day, ids.never])
  })

  it('counts every pending request, past the page', async () => {
    expect(await order('DEADLINE', 1)).toEqual({ count: 3, ids: [ids.hour] })
  })

  it('needs approval:resolve, as the inbox does', async () => {
    await server.db.prisma.role.create({ data: { key: 'observer', name: 'Observer', permissions: ['approval:view'] } })
    const olga = await createUserWithToken(server, { email: 'olga@example.com', name: 'Olga', roleKeys: ['observer'] })
    expect(codes(await server.gql(`{ approvalInboxCount }`, {}, olga.token))).toEqual(['FORBIDDEN'])
  })
})

describe('history filters', () => {
  it('finds requests by words in the summary, action or comment, and by the person they were for', async () => {
    const HISTORY = `query($f: ApprovalHistoryFilter) { approvalHistory(first: 50, filter: $f) { edges { node { id } } } }`
    const found = async (f: Record<string, unknown>) =>
      ((await server.gql(HISTORY, { f }, server.ownerToken)).data.approvalHistory.edges as { node: { id: string } }[]).map((e) => e.node.id).sort()
    await server.gql(`mutation($id: ID!) { approveRequest(id: $id, comment: "Looks FINE to me") { status } }`, { id: ids.day }, rita.token)
    expect(await found({ text: 'fine' })).toEqual([ids.day])
    expect(await found({ text: 'send_email fine' })).toEqual([ids.day])
    expect(await found({ text: 'nothing like this' })).toEqual([])
    const owner = (await server.gql(`{ viewer { principal { id } } }`, {}, server.ownerToken)).data.viewer.principal.id
    expect(await found({ onBehalfOfId: owner })).toEqual(Object.values(ids).sort())
    expect(await found({ onBehalfOfId: rita.id })).toEqual([])
    const long = await server.gql(HISTORY, { f: { text: 'x'.repeat(201) } }, server.ownerToken)
    expect(codes(long)).toEqual(['BAD_USER_INPUT'])
  })
})

describe('inbox filters', () => {
  const FILTERED = `query($f: InboxFilter) { approvalInboxCount(filter: $f) approvalInbox(first: 50, filter: $f) { edges { node { id } } } }`
  const found = async (f: Record<string, unknown>, token = rita.token) => {
    const res = await server.gql(FILTERED, { f }, token)
    expect(res.errors).toBeUndefined()
    const found = (res.data.approvalInbox.edges as { node: { id: string } }[]).map((e) => e.node.id).sort()
    // the count takes the same filter, so the inbox says how many match in all
    expect(res.data.approvalInboxCount).toBe(found.length)
    return found
  }

  it('finds pending requests by words in the summary, the agent, the person or the rule, past any loaded page', async () => {
    const pending = [ids.never, ids.hour].sort() // the "day" one was decided above
    expect(await found({})).toEqual(pending)
    expect(await found({ text: 'mailer' })).toEqual(pending) // the agent's name
    expect(await found({ text: 'HOUR' })).toEqual([ids.hour]) // its rule's name (and summary's module)
    expect(await found({ text: 'mailer never' })).toEqual([ids.never]) // every word somewhere
    expect(await found({ text: 'nobody' })).toEqual([])
  })

  it('filters by action type, rule, agent and person', async () => {
    expect(await found({ actionType: 'post_to_social' })).toEqual([])
    expect(await found({ actionType: 'send_email', requesterId: agent.id })).toEqual([ids.never, ids.hour].sort())
    const owner = (await server.gql(`{ viewer { principal { id } } }`, {}, server.ownerToken)).data.viewer.principal.id
    expect(await found({ onBehalfOfId: owner })).toHaveLength(2)
    expect(await found({ onBehalfOfId: rita.id })).toEqual([])
    const rules = (await server.gql(`{ approvalRules { id name } }`, {}, server.ownerToken)).data.approvalRules as { id: string; name: string }[]
    expect(await found({ ruleId: rules.find((r) => r.name === 'never')!.id })).toEqual([ids.never])
  })

  it('refuses a malformed filter with the field it names, and never widens the inbox', async () => {
    expect(codes(await server.gql(FILTERED, { f: { ruleId: 'nonsense' } }, rita.token))).toEqual(['BAD_USER_INPUT'])
    expect(codes(await server.gql(FILTERED, { f: { text: 'x'.repeat(201) } }, rita.token))).toEqual(['BAD_USER_INPUT'])
    // a reviewer of none of them finds none: a filter narrows what the viewer may decide, never widens it
    const mo = await createUserWithToken(server, { email: 'mo@example.com', name: 'Mo', roleKeys: ['member'] })
    expect(await found({ text: 'mailer' }, mo.token)).toEqual([])
    expect(await found({ requesterId: agent.id }, mo.token)).toEqual([])
  })
})
