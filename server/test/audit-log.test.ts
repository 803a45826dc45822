// The audit log: the service-wide feed (approvalEvents), the hash chains and checkpoints, and
// verifyAuditLog against tampering done directly in the database.
import { decodeGlobalID } from '@pothos/plugin-relay'
import { afterEach, describe, expect, it } from 'vitest'
import { codes, createAgentWithToken, createRule, createUserWithToken, ManualClock, startServer, type TestServer } from './harness.js'

type Principal = { id: string; token: string }

const FEED = `query($after: String, $first: Int) {
  approvalEvents(after: $after, first: $first) {
    edges { cursor node { id sequence hash prevHash position type request { id } } }
    pageInfo { hasNextPage endCursor }
  }
}`
const VERIFY = `{ verifyAuditLog { ok checkedEvents checkedCheckpoints problem firstBrokenEvent { id type request { id } } } }`

interface FeedEvent {
  id: string
  sequence: string
  hash: string
  prevHash: string | null
  position: number
  type: string
  request: { id: string }
}

let server: TestServer | undefined
afterEach(async () => {
  await server?.destroy()
  server = undefined
})

/** A server with a reviewer, an agent and a rule that gates its emails. */
async function setUp() {
  server = await startServer()
  const rita = await createUserWithToken(server, { email: 'rita@example.com', name: 'Rita', roleKeys: ['member'] })
  const agent = await createAgentWithToken(server, { name: 'Mailer' })
  await createRule(server, { name: 'Emails', resourceType: 'AGENT_ACTION', actionType: 'send_email', primaryResolver: { type: 'NAMED_USER', userId: rita.id } })
  return { server, rita, agent }
}

async function ask(s: TestServer, agent: Principal, subject: string): Promise<string> {
  const res = await s.gql(
    `mutation($i: RequestApprovalInput!) { requestApproval(input: $i) { request { id } } }`,
    { i: { resourceType: 'AGENT_ACTION', actionType: 'send_email', params: { to: 'a@example.com', subject, body: 'x' }, summary: subject } },
    agent.token,
  )
  expect(res.errors).toBeUndefined()
  return res.data.requestApproval.request.id
}

async function decide(s: TestServer, reviewer: Principal, id: string, verb: 'approveRequest' | 'rejectRequest', comment: string) {
  const res = await s.gql(`mutation($id: ID!, $c: String) { ${verb}(id: $id, comment: $c) { status } }`, { id, c: comment }, reviewer.token)
  expect(res.errors).toBeUndefined()
}

/** Every event of the feed, page by page, as a follower reads it. */
async function follow(s: TestServer, after: string | null = null, first = 3): Promise<{ events: FeedEvent[]; cursor: string | null }> {
  const events: FeedEvent[] = []
  let cursor = after
  for (;;) {
    const res = await s.gql(FEED, { after: cursor, first }, s.ownerToken)
    expect(res.errors).toBeUndefined()
    const page = res.data.approvalEvents
    events.push(...page.edges.map((e: { node: FeedEvent }) => e.node))
    cursor = page.pageInfo.endCursor ?? cursor
    if (!page.pageInfo.hasNextPage) return { events, cursor }
  }
}

const dbId = (globalId: string) => decodeGlobalID(globalId).id

describe('the audit feed', () => {
  it("lists every request's events oldest first, each once, with its request and its place in the request's chain", async () => {
    const { server: s, rita, agent } = await setUp()
    const first = await ask(s, agent, 'One')
    const second = await ask(s, agent, 'Two')
    await decide(s, rita, first, 'approveRequest', 'ok')
    await decide(s, rita, second, 'rejectRequest', 'no')
    const { events, cursor } = await follow(s)
    expect(events.map((e) => [e.request.id, e.type])).toEqual([
      [first, 'REQUESTED'],
      [second, 'REQUESTED'],
      [first, 'APPROVED'],
      [second, 'REJECTED'],
    ])
    const sequences = events.map((e) => BigInt(e.sequence))
    expect(sequences).toEqual([...sequences].sort((a, b) => (a < b ? -1 : 1)))
    // each request's events form a chain: the second names the first's hash
    const ofFirst = events.filter((e) => e.request.id === first)
    expect(ofFirst.map((e) => e.position)).toEqual([1, 2])
    expect(ofFirst[0]!.prevHash).toBeNull()
    expect(ofFirst[1]!.prevHash).toBe(ofFirst[0]!.hash)
    for (const e of events) expect(e.hash).toMatch(/^[0-9a-f]{64}$/)

    // a follower that keeps its cursor gets what came after, and nothing twice
    const third = await ask(s, agent, 'Three')
    const next = await follow(s, cursor)
    expect(next.events.map((e) => [e.request.id, e.type])).toEqual([[third, 'REQUESTED']])
    expect((await follow(s, next.cursor)).events).toEqual([])
  })

  it("numbers an event read through its request before the sequencer's pass, the same as the feed then does", async () => {
    const { server: s, agent } = await setUp()
    const id = await ask(s, agent, 'Numbered on demand')
    const read = await s.gql(`query($id: ID!) { approvalRequest(id: $id) { events { id sequence hash } } }`, { id }, s.ownerToken)
    const [event] = read.data.approvalRequest.events
    expect(event.sequence).toMatch(/^\d+$/)
    const { events } = await follow(s)
    expect(events.find((e) => e.id === event.id)).toMatchObject({ sequence: event.sequence, hash: event.hash })
  })

  it('numbers events after commit on PostgreSQL, and as they are written on PGlite (one session, where commit order is write order); a pass anchors each once', async () => {
    const { server: s, agent } = await setUp()
    await ask(s, agent, 'Numbered')
    await ask(s, agent, 'Numbered too')
    const written = await s.db.prisma.approvalEvent.findMany({ orderBy: { id: 'asc' }, select: { id: true, sequence: true } })
    expect(written).toHaveLength(2)
    if (s.db.kind === 'pglite') expect(written.map((e) => e.sequence)).toEqual(written.map((e) => e.id))
    else expect(written.map((e) => e.sequence)).toEqual([null, null])
    // the pass anchors both in one checkpoint, whichever way they were numbered
    expect(await s.app.audit.runOnce()).toBe(2)
    expect(await s.app.audit.runOnce()).toBe(0)
    const numbered = await s.db.prisma.approvalEvent.findMany({ orderBy: { id: 'asc' }, select: { id: true, sequence: true } })
    const sequences = numbered.map((e) => e.sequence!)
    expect(sequences[0]! < sequences[1]!).toBe(true)
    const checkpoints = await s.db.prisma.auditCheckpoint.findMany()
    expect(checkpoints).toEqual([expect.objectContaining({ upToSequence: sequences[1] })])
    expect((checkpoints[0]!.heads as unknown[]).length).toBe(2)
    expect((await s.gql(VERIFY, {}, s.ownerToken)).data.verifyAuditLog).toMatchObject({ ok: true, checkedEvents: 2, checkedCheckpoints: 1 })
  })

  it('is for approval:view holders; verifying is for approval:manage holders', async () => {
    const { server: s, rita, agent } = await setUp()
    expect(codes(await s.gql(FEED, {}, rita.token))).toEqual(['FORBIDDEN'])
    expect(codes(await s.gql(FEED, {}, agent.token))).toEqual(['FORBIDDEN'])
    expect(codes(await s.gql(VERIFY, {}, rita.token))).toEqual(['FORBIDDEN'])
    await s.db.prisma.role.create({ data: { key: 'auditor', name: 'Auditor', permissions: ['approval:view'] } })
    const audrey = await createUserWithToken(s, { email: 'audrey@example.com', name: 'Audrey', roleKeys: ['auditor'] })
    expect((await s.gql(FEED, {}, audrey.token)).errors).toBeUndefined()
    expect(codes(await s.gql(VERIFY, {}, audrey.token))).toEqual(['FORBIDDEN'])
    expect(codes(await s.gql(FEED, { first: 1001 }, audrey.token))).not.toEqual([])
  })
})

describe('tamper evidence', () => {
  /** Two requests with two events each, all numbered and anchored. */
  async function history() {
    const { server: s, rita, agent } = await setUp()
    const a = await ask(s, agent, 'Alpha')
    const b = await ask(s, agent, 'Beta')
    await decide(s, rita, a, 'approveRequest', 'fine')
    await decide(s, rita, b, 'approveRequest', 'also fine')
    const verified = await s.gql(VERIFY, {}, s.ownerToken)
    expect(verified.data.verifyAuditLog).toMatchObject({ ok: true, checkedEvents: 4, problem: null, firstBrokenEvent: null })
    const rows = await s.db.prisma.approvalEvent.findMany({ orderBy: { id: 'asc' }, select: { id: true, requestId: true, type: true } })
    const eventOf = (requestId: string, type: string) => rows.find((r) => r.requestId === dbId(requestId) && r.type === type)!.id
    return { s, a, b, eventOf }
  }
  const verify = async (s: TestServer) => (await s.gql(VERIFY, {}, s.ownerToken)).data.verifyAuditLog

  it('reports an event whose content was changed in the database, and is whole again once it is put back', async () => {
    const { s, a, eventOf } = await history()
    const approved = eventOf(a, 'APPROVED')
    await s.db.prisma.$executeRawUnsafe(`UPDATE "ApprovalEvent" SET "comment" = 'forged' WHERE "id" = $1`, approved)
    const found = await verify(s)
    expect(found.ok).toBe(false)
    expect(found.firstBrokenEvent).toMatchObject({ type: 'APPROVED', request: { id: a } })
    expect(found.problem).toContain('changed after it was written')
    await s.db.prisma.$executeRawUnsafe(`UPDATE "ApprovalEvent" SET "comment" = 'fine' WHERE "id" = $1`, approved)
    expect((await verify(s)).ok).toBe(true)
  })

  it('reports a changed time as well as a changed comment', async () => {
    const { s, a, eventOf } = await history()
    await s.db.prisma.$executeRawUnsafe(`UPDATE "ApprovalEvent" SET "at" = "at" + interval '1 hour' WHERE "id" = $1`, eventOf(a, 'REQUESTED'))
    expect(await verify(s)).toMatchObject({ ok: false, firstBrokenEvent: { type: 'REQUESTED', request: { id: a } } })
  })

  it("reports a deleted event at the one after it in its request's chain", async () => {
    const { s, b, eventOf } = await history()
    await s.db.prisma.$executeRawUnsafe(`DELETE FROM "ApprovalEvent" WHERE "id" = $1`, eventOf(b, 'REQUESTED'))
    const found = await verify(s)
    expect(found).toMatchObject({ ok: false, checkedEvents: 3, firstBrokenEvent: { type: 'APPROVED', request: { id: b } } })
    expect(found.problem).toContain('an event before it was removed')
  })

  it("reports a request's last event deleted, from the checkpoint that anchored it", async () => {
    const { s, a, eventOf } = await history()
    await s.db.prisma.$executeRawUnsafe(`DELETE FROM "ApprovalEvent" WHERE "id" = $1`, eventOf(a, 'APPROVED'))
    const found = await verify(s)
    expect(found).toMatchObject({ ok: false, firstBrokenEvent: { type: 'REQUESTED', request: { id: a } } })
    expect(found.problem).toMatch(/position 2, anchored by checkpoint \d+, is missing/)
  })

  it('reports a changed or deleted checkpoint', async () => {
    const { s } = await history()
    const checkpoints = await s.db.prisma.auditCheckpoint.findMany({ orderBy: { id: 'asc' } })
    expect(checkpoints.length).toBeGreaterThan(0)
    await s.db.prisma.$executeRawUnsafe(`UPDATE "AuditCheckpoint" SET "heads" = '[]'::jsonb WHERE "id" = $1`, checkpoints[0]!.id)
    expect(await verify(s)).toMatchObject({ ok: false, problem: expect.stringContaining('no longer matches its hash') })
    await s.db.prisma.$executeRawUnsafe(`UPDATE "AuditCheckpoint" SET "heads" = $2::jsonb WHERE "id" = $1`, checkpoints[0]!.id, JSON.stringify(checkpoints[0]!.heads))
    expect((await verify(s)).ok).toBe(true)
    const last = checkpoints.at(-1)!
    await s.db.prisma.$executeRawUnsafe(`DELETE FROM "AuditCheckpoint" WHERE "id" = $1`, last.id)
    expect(await verify(s)).toMatchObject({ ok: false, problem: expect.stringContaining('anchored by no checkpoint') })
  })
})

describe("tamper evidence of a request's row (decidedBy, decisionComment, params)", () => {
  const verify = async (s: TestServer) => (await s.gql(VERIFY, {}, s.ownerToken)).data.verifyAuditLog
  const row = (s: TestServer, id: string) => s.db.prisma.approvalRequest.findUniqueOrThrow({ where: { id: dbId(id) } })
  const set = (s: TestServer, id: string, assignments: string, ...values: unknown[]) =>
    s.db.prisma.$executeRawUnsafe(`UPDATE "ApprovalRequest" SET ${assignments} WHERE "id" = $1::uuid`, dbId(id), ...values)

  it('reports a decision rewritten in the request row (another decider, another comment, another outcome), and params changed after they were asked or approved', async () => {
    const { server: s, rita, agent } = await setUp()
    const ben = await createUserWithToken(s, { email: 'ben@example.com', name: 'Ben', roleKeys: ['member'] })
    await createRule(s, { name: 'Posts', resourceType: 'AGENT_ACTION', actionType: 'post_to_social', allowEdit: true, primaryResolver: { type: 'NAMED_USER', userId: rita.id } })
    const approved = await ask(s, agent, 'Approved')
    await decide(s, rita, approved, 'approveRequest', 'fine')
    const pending = await ask(s, agent, 'Pending')
    const post = await s.gql(
      `mutation($i: RequestApprovalInput!) { requestApproval(input: $i) { request { id } } }`,
      { i: { resourceType: 'AGENT_ACTION', actionType: 'post_to_social', params: { text: 'Launch!', platform: 'x' } } },
      agent.token,
    )
    const edited = post.data.requestApproval.request.id as string
    const approvedEdit = await s.gql(`mutation($id: ID!, $p: JSON) { approveRequest(id: $id, comment: "shorter", params: $p) { status edited } }`, { id: edited, p: { text: 'Launch', platform: 'x' } }, rita.token)
    expect(approvedEdit.data.approveRequest).toEqual({ status: 'APPROVED', edited: true })
    expect(await verify(s)).toMatchObject({ ok: true, problem: null })

    const originals = { approved: await row(s, approved), pending: await row(s, pending), edited: await row(s, edited) }
    const tamperings: [string, () => Promise<unknown>, string, RegExp, () => Promise<unknown>][] = [
      ['decidedBy', () => set(s, approved, `"decidedByUserId" = $2::uuid`, dbId(ben.id)), approved, /who decided it or their comment \(decidedBy, decisionComment\) no longer match its APPROVED event/,
        () => set(s, approved, `"decidedByUserId" = $2::uuid`, originals.approved.decidedByUserId)],
      ['decisionComment', () => set(s, approved, `"decisionComment" = 'approved by the board'`), approved, /who decided it or their comment/,
        () => set(s, approved, `"decisionComment" = $2`, originals.approved.decisionComment)],
      ['status', () => set(s, approved, `"status" = 'REJECTED'`), approved, /its status \(REJECTED\) or decision time \(decidedAt\) no longer match/,
        () => set(s, approved, `"status" = 'APPROVED'`)],
      ['decided while pending', () => set(s, pending, `"decidedByUserId" = $2::uuid, "decisionComment" = 'ok'`, dbId(ben.id)), pending, /it is PENDING, but it holds a decision/,
        () => set(s, pending, `"decidedByUserId" = NULL, "decisionComment" = NULL`)],
      ['params', () => set(s, pending, `"params" = jsonb_set("params", '{to}', '"attacker@evil.test"')`), pending, /what was asked \(params, context, summary, requester, rule\) no longer matches what its REQUESTED event recorded/,
        () => set(s, pending, `"params" = $2::jsonb`, JSON.stringify(originals.pending.params))],
      ['approvedParams', () => set(s, edited, `"approvedParams" = '{"text": "Launch, and buy 1000 ads", "platform": "x"}'::jsonb`), edited, /its edited params \(approvedParams, edited\) no longer match what its last EDITED or APPROVED event recorded/,
        () => set(s, edited, `"approvedParams" = $2::jsonb`, JSON.stringify(originals.edited.approvedParams))],
      ['an edit slipped in', () => set(s, approved, `"edited" = true, "approvedParams" = '{"to": "attacker@evil.test"}'::jsonb`), approved, /its edited params/,
        () => set(s, approved, `"edited" = false, "approvedParams" = NULL`)],
    ]
    for (const [what, tamper, id, problem, restore] of tamperings) {
      await tamper()
      const found = await verify(s)
      expect([what, found.ok, found.firstBrokenEvent?.request?.id]).toEqual([what, false, id])
      expect(found.problem, what).toMatch(problem)
      expect(found.problem, what).toContain(`Request ${dbId(id)}: `)
      await restore()
      expect([what, (await verify(s)).ok]).toEqual([what, true])
    }
  })
})

describe('who acted as what', () => {
  const EVENTS = `query($id: ID!) { approvalRequest(id: $id) { events { type actedAs channel actor { name } delegateOf { name } } } }`

  it('names a person, an agent, a delegate and for whom', async () => {
    const { server: s, rita, agent } = await setUp()
    const ben = await createUserWithToken(s, { email: 'ben@example.com', name: 'Ben', roleKeys: ['member'] })
    // Rita is away with Ben as her delegate: her next request goes to Ben
    await s.gql(`mutation($d: ID) { setMyAvailability(available: false, delegateId: $d) { available } }`, { d: ben.id }, rita.token)
    const delegated = await ask(s, agent, 'Delegated')
    await decide(s, ben, delegated, 'approveRequest', 'for Rita')
    await s.gql(`mutation { setMyAvailability(available: true) { available } }`, {}, rita.token)
    const cancelled = await ask(s, agent, 'Withdrawn')
    await s.gql(`mutation($id: ID!) { cancelApprovalRequest(id: $id, reason: "not needed") { status } }`, { id: cancelled }, agent.token)
    const direct = await ask(s, agent, 'Direct')
    await decide(s, rita, direct, 'rejectRequest', 'no')
    const events = async (id: string) => (await s.gql(EVENTS, { id }, s.ownerToken)).data.approvalRequest.events
    expect(await events(delegated)).toEqual([
      { type: 'REQUESTED', actedAs: 'AGENT', channel: null, actor: { name: 'Mailer' }, delegateOf: null },
      { type: 'DELEGATED', actedAs: 'SERVICE', channel: null, actor: null, delegateOf: null },
      { type: 'APPROVED', actedAs: 'DELEGATE', channel: 'API', actor: { name: 'Ben' }, delegateOf: { name: 'Rita' } },
    ])
    expect((await events(cancelled)).at(-1)).toMatchObject({ type: 'CANCELLED', actedAs: 'AGENT', actor: { name: 'Mailer' } })
    expect((await events(direct)).at(-1)).toMatchObject({ type: 'REJECTED', actedAs: 'PERSON', actor: { name: 'Rita' }, delegateOf: null })
  })

  it('records where each decision was made: the inbox (as it says), the API (agents always), by a vote or an edit too; the log verifies', async () => {
    const { server: s, rita, agent } = await setUp()
    // rita's: a reviewer agent never reviews requests of an agent with its owner (the mailer is the service owner's)
    const judge = await createAgentWithToken(s, { name: 'Judge', ownerId: rita.id })
    await createRule(s, { name: 'Judged', resourceType: 'AGENT_ACTION', actionType: 'send_email', module: 'judged', primaryResolver: { type: 'AGENT', agentId: judge.id }, priority: 10 })
    const asInbox = async (query: string, variables: Record<string, unknown>, token: string) => {
      const res = await fetch(s.url, {
        method: 'POST',
        headers: { 'content-type': 'application/json', authorization: `Bearer ${token}`, 'x-approvals-client': 'inbox' },
        body: JSON.stringify({ query, variables }),
      })
      const body = (await res.json()) as { errors?: unknown }
      expect(body.errors).toBeUndefined()
    }
    const inInbox = await ask(s, agent, 'In the inbox')
    await asInbox(`mutation($id: ID!) { approveRequest(id: $id, comment: "ok") { status } }`, { id: inInbox }, rita.token)
    const edited = await ask(s, agent, 'Edited in the inbox')
    await asInbox(
      `mutation($id: ID!, $p: JSON!) { approveRequest(id: $id, params: $p) { status } }`,
      { id: edited, p: { to: 'a@example.com', subject: 'Better', body: 'x' } },
      rita.token,
    )
    const throughApi = await ask(s, agent, 'Through the API')
    await decide(s, rita, throughApi, 'rejectRequest', 'no')
    const judged = (
      await s.gql(
        `mutation($i: RequestApprovalInput!) { requestApproval(input: $i) { request { id } } }`,
        { i: { resourceType: 'AGENT_ACTION', actionType: 'send_email', module: 'judged', params: { to: 'a@example.com', subject: 'j', body: 'x' } } },
        agent.token,
      )
    ).data.requestApproval.request.id as string
    // an agent saying it is the inbox is still the API
    await asInbox(`mutation($id: ID!) { approveRequest(id: $id) { status } }`, { id: judged }, judge.token)
    const trail = async (id: string) =>
      (await s.gql(`query($id: ID!) { approvalRequest(id: $id) { events { type channel actedAs } } }`, { id }, s.ownerToken)).data.approvalRequest.events
    expect(await trail(inInbox)).toEqual([
      { type: 'REQUESTED', channel: null, actedAs: 'AGENT' },
      { type: 'APPROVED', channel: 'INBOX', actedAs: 'PERSON' },
    ])
    expect(await trail(edited)).toEqual([
      { type: 'REQUESTED', channel: null, actedAs: 'AGENT' },
      { type: 'EDITED', channel: null, actedAs: 'PERSON' },
      { type: 'APPROVED', channel: 'INBOX', actedAs: 'PERSON' },
    ])
    expect((await trail(throughApi)).at(-1)).toEqual({ type: 'REJECTED', channel: 'API', actedAs: 'PERSON' })
    expect((await trail(judged)).at(-1)).toEqual({ type: 'APPROVED', channel: 'API', actedAs: 'REVIEWER_AGENT' })
    // the edit's JSON Patch is intact, and every channel is in its event as hashed
    const patch = await s.db.prisma.approvalEvent.findFirstOrThrow({ where: { type: 'EDITED' }, select: { details: true } })
    expect(patch.details).toEqual([{ op: 'replace', path: '/subject', value: 'Better' }])
    expect((await s.gql(VERIFY, {}, s.ownerToken)).data.verifyAuditLog).toMatchObject({ ok: true, problem: null })
  })

  it('answers who acted for a whole page of decisions with the same statements, however many there are', async () => {
    // the statements that read events (others, such as a token's last use, come and go with time)
    let statements = 0
    server = await startServer({ onQuery: (sql) => void (sql.includes('"ApprovalEvent"') && statements++) })
    const s = server
    const rita = await createUserWithToken(s, { email: 'rita@example.com', name: 'Rita', roleKeys: ['member'] })
    const agent = await createAgentWithToken(s, { name: 'Mailer' })
    await createRule(s, { name: 'Emails', resourceType: 'AGENT_ACTION', actionType: 'send_email', primaryResolver: { type: 'NAMED_USER', userId: rita.id } })
    const PAGE = `{ approvalEvents(first: 100) { edges { node { type actedAs delegateOf { name } } } } }`
    const read = async () => {
      await s.app.audit.runOnce()
      statements = 0
      const res = await s.gql(PAGE, {}, s.ownerToken)
      expect(res.errors).toBeUndefined()
      return { count: statements, events: res.data.approvalEvents.edges.map((e: { node: unknown }) => e.node) }
    }
    for (const n of [1, 2]) await decide(s, rita, await ask(s, agent, `First ${n}`), 'approveRequest', 'ok')
    const few = await read()
    for (const n of [1, 2, 3, 4]) await decide(s, rita, await ask(s, agent, `Then ${n}`), 'approveRequest', 'ok')
    const many = await read()
    expect(many.events.filter((e: { actedAs: string }) => e.actedAs === 'PERSON')).toHaveLength(6)
    expect(many.count).toBe(few.count)
  })

  it('names a reviewer agent, and the scheduler for an expiry and for an approval at the deadline', async () => {
    const clock = new ManualClock()
    server = await startServer({ clock })
    const s = server
    const agent = await createAgentWithToken(s, { name: 'Mailer' })
    // someone else's: a reviewer agent never reviews requests of an agent with its owner (the mailer is the service owner's)
    const judgesOwner = await createUserWithToken(s, { email: 'jo@example.com', name: 'Jo', roleKeys: ['member'] })
    const judge = await createAgentWithToken(s, { name: 'Judge', ownerId: judgesOwner.id })
    await createRule(s, { name: 'Judged', resourceType: 'AGENT_ACTION', actionType: 'send_email', module: 'judged', primaryResolver: { type: 'AGENT', agentId: judge.id } })
    await createRule(s, { name: 'Lapses', resourceType: 'AGENT_ACTION', actionType: 'send_email', module: 'lapses', primaryResolver: { type: 'AGENT', agentId: judge.id }, expiresAfterSeconds: 60 })
    await createRule(s, { name: 'Silence', resourceType: 'AGENT_ACTION', actionType: 'send_email', module: 'silence', primaryResolver: { type: 'AGENT', agentId: judge.id }, expiresAfterSeconds: 60, onExpiry: 'APPROVE' })
    const askIn = async (module: string) =>
      (
        await s.gql(
          `mutation($i: RequestApprovalInput!) { requestApproval(input: $i) { request { id } } }`,
          { i: { resourceType: 'AGENT_ACTION', actionType: 'send_email', module, params: { to: 'a@example.com', subject: module, body: 'x' } } },
          agent.token,
        )
      ).data.requestApproval.request.id as string
    const judged = await askIn('judged')
    await decide(s, judge, judged, 'approveRequest', 'fine by me')
    const lapsed = await askIn('lapses')
    const silent = await askIn('silence')
    clock.advance(61)
    await s.app.scheduler.runOnce()
    const last = async (id: string) => (await s.gql(EVENTS, { id }, s.ownerToken)).data.approvalRequest.events.at(-1)
    expect(await last(judged)).toMatchObject({ type: 'APPROVED', actedAs: 'REVIEWER_AGENT', actor: { name: 'Judge' } })
    expect(await last(lapsed)).toMatchObject({ type: 'EXPIRED', actedAs: 'SCHEDULER', actor: null })
    expect(await last(silent)).toMatchObject({ type: 'APPROVED', actedAs: 'SCHEDULER', actor: null })
  })
})
