// Custom action types: approval managers add AGENT_ACTIONs to the built-in catalogue, each with a
// JSON Schema, and rules, requests, edits and executions treat them as the built-ins. Through the
// API over HTTP, on PGlite (PostgreSQL with TEST_DATABASE_URL). Across instances:
// action-types.pg.redis.test.ts.
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { codes, createAgentWithToken, createRule, createUserWithToken, RULE_FIELDS, startServer, type TestServer } from './harness.js'

let server: TestServer
let statements: string[] = []
let rita: { id: string; token: string }
let agent: { id: string; token: string }

beforeAll(async () => {
  server = await startServer({ onQuery: (sql) => statements.push(sql) })
  // a plain member: reviews (approval:resolve), manages nothing
  rita = await createUserWithToken(server, { email: 'rita@example.com', name: 'Rita', roleKeys: ['member'] })
  agent = await createAgentWithToken(server, { name: 'SQL agent' })
})
afterAll(async () => {
  await server?.destroy()
})

const FIELDS = 'key resourceType description paramsSchema builtIn'
const CREATE = `mutation($i: ActionTypeInput!) { createActionType(input: $i) { ${FIELDS} } }`
const UPDATE = `mutation($k: String!, $i: ActionTypeInput!) { updateActionType(key: $k, input: $i) { ${FIELDS} } }`
const DELETE = `mutation($k: String!) { deleteActionType(key: $k) }`
const GET = `query($k: String!) { actionType(key: $k) { ${FIELDS} } }`
const LIST = `{ actionTypes { ${FIELDS} } }`
const ASK = `mutation($i: RequestApprovalInput!) { requestApproval(input: $i) { approvalRequired request { id status actionType params } } }`
const APPROVE = `mutation($id: ID!, $p: JSON) { approveRequest(id: $id, params: $p) { status edited params approvedParams } }`
const BUILT_INS = ['send_email', 'post_to_social', 'create_landing_page', 'browse_website', 'call_tool', 'create_record', 'update_record']

const sqlSchema = {
  type: 'object',
  required: ['database', 'query'],
  properties: {
    database: { enum: ['analytics', 'billing'] },
    query: { type: 'string', minLength: 1, maxLength: 2000 },
    readOnly: { type: 'boolean' },
  },
  additionalProperties: false,
}
const schemaOf = (key: string, extra: Record<string, unknown> = {}) => ({
  type: 'object',
  required: ['id'],
  properties: { id: { type: 'string' }, note: { type: 'string', description: `params of ${key}` } },
  ...extra,
})

async function create(key: string, paramsSchema: Record<string, unknown> = schemaOf(key), description = `Custom ${key}`) {
  const res = await server.gql(CREATE, { i: { key, description, paramsSchema } }, server.ownerToken)
  if (res.errors) throw new Error(JSON.stringify(res.errors))
  return res.data.createActionType
}
const customKeys = async () =>
  ((await server.gql(LIST, {}, server.ownerToken)).data.actionTypes as { key: string; builtIn: boolean }[]).filter((a) => !a.builtIn).map((a) => a.key)
const ask = (input: Record<string, unknown>, token = agent.token) => server.gql(ASK, { i: { resourceType: 'AGENT_ACTION', ...input } }, token)
/** Who reviews a request, as an approval manager reads it (its requester is not shown how it is reviewed). */
const reviewersOf = async (id: string) => (await server.gql(`query($id: ID!) { approvalRequest(id: $id) { reviewers { id } } }`, { id }, server.ownerToken)).data.approvalRequest.reviewers
async function askOk(input: Record<string, unknown>) {
  const res = await ask(input)
  if (res.errors) throw new Error(JSON.stringify(res.errors))
  return res.data.requestApproval
}

describe('the catalogue', () => {
  it('lists the built-ins first, with builtIn true and their JSON Schemas; actionType(key) finds one; an unknown key is null', async () => {
    const list = (await server.gql(LIST, {}, agent.token)).data.actionTypes as { key: string; builtIn: boolean; paramsSchema: { type: string } }[]
    expect(list.slice(0, BUILT_INS.length).map((a) => [a.key, a.builtIn, a.paramsSchema.type])).toEqual(BUILT_INS.map((k) => [k, true, 'object']))
    const email = await server.gql(GET, { k: 'send_email' }, agent.token)
    expect(email.data.actionType).toMatchObject({ key: 'send_email', resourceType: 'AGENT_ACTION', builtIn: true, paramsSchema: { required: ['to', 'subject', 'body'] } })
    expect((await server.gql(GET, { k: 'launch_rocket' }, agent.token)).data.actionType).toBeNull()
  })

  it('call_tool, the MCP gateway action: rules gate it by server, tool and arguments; its params are checked; an edit of its arguments is approved', async () => {
    const module = 'mcp-catalogue'
    await createRule(server, {
      name: 'Deleting files needs Rita',
      resourceType: 'AGENT_ACTION',
      actionType: 'call_tool',
      module,
      conditions: { and: [{ '==': [{ var: 'params.server' }, 'files'] }, { '==': [{ var: 'params.tool' }, 'delete_file'] }] },
      primaryResolver: { type: 'NAMED_USER', userId: rita.id },
    })
    const call = (tool: string, args: unknown = { path: 'notes.txt' }, server = 'files') => ({ actionType: 'call_tool', module, params: { server, tool, arguments: args } })
    expect(await askOk(call('read_file'))).toEqual({ approvalRequired: false, request: null })
    expect(await askOk(call('delete_file', { path: 'notes.txt' }, 'other'))).toEqual({ approvalRequired: false, request: null })
    const gated = await askOk(call('delete_file'))
    expect(gated).toMatchObject({ approvalRequired: true, request: { status: 'PENDING', actionType: 'call_tool' } })
    expect(await reviewersOf(gated.request.id)).toEqual([{ id: rita.id }])

    for (const [params, pointer] of [
      [{ server: 'files', tool: 'delete_file' }, '/arguments'],
      [{ server: 'files', tool: 'delete_file', arguments: ['notes.txt'] }, '/arguments'],
      [{ server: '', tool: 'delete_file', arguments: {} }, '/server'],
      [{ server: 'files', tool: 'x'.repeat(201), arguments: {} }, '/tool'],
    ] as const) {
      const refused = await ask({ actionType: 'call_tool', module, params })
      expect(refused.errors?.[0]?.extensions, JSON.stringify(params)).toMatchObject({ code: 'BAD_USER_INPUT', field: 'input.params', pointer })
    }

    const edit = { server: 'files', tool: 'delete_file', arguments: { path: 'old-notes.txt' } }
    expect(codes(await server.gql(APPROVE, { id: gated.request.id, p: { ...edit, arguments: 'old-notes.txt' } }, rita.token))).toEqual(['BAD_USER_INPUT'])
    const approved = await server.gql(APPROVE, { id: gated.request.id, p: edit }, rita.token)
    expect(approved.data.approveRequest).toMatchObject({ status: 'APPROVED', edited: true, approvedParams: edit })
  })

  it('createActionType: an AGENT_ACTION with builtIn false, listed after the built-ins by key, found by actionType(key)', async () => {
    const created = await create('lookup_customer', schemaOf('lookup_customer'), '  Look a customer up in the CRM  ')
    expect(created).toEqual({
      key: 'lookup_customer',
      resourceType: 'AGENT_ACTION',
      description: 'Look a customer up in the CRM',
      paramsSchema: schemaOf('lookup_customer'),
      builtIn: false,
    })
    await create('archive_ticket')
    const list = (await server.gql(LIST, {}, agent.token)).data.actionTypes as { key: string; builtIn: boolean }[]
    const keys = list.map((a) => a.key)
    expect(keys.slice(0, BUILT_INS.length)).toEqual(BUILT_INS)
    expect(keys.indexOf('archive_ticket')).toBeGreaterThan(BUILT_INS.length - 1)
    expect(keys.indexOf('archive_ticket')).toBeLessThan(keys.indexOf('lookup_customer'))
    expect((await server.gql(GET, { k: 'lookup_customer' }, agent.token)).data.actionType).toEqual(created)
  })

  it.each([
    ['an uppercase key', { key: 'RunSql' }, 'input.key', /lowercase/],
    ['a key with a dash', { key: 'run-sql' }, 'input.key', /lowercase/],
    ['a key with a space', { key: 'run sql' }, 'input.key', /lowercase/],
    ['a key starting with a digit', { key: '9lives' }, 'input.key', /start with a lowercase letter/],
    ['a key longer than 64 characters', { key: 'a'.repeat(65) }, 'input.key', /at most 64/],
    ['a key of a built-in', { key: 'send_email' }, 'input.key', /built-in/],
    ['an empty description', { description: '   ' }, 'input.description', /empty/],
    ['a schema that is no JSON Schema', { paramsSchema: { type: 'nope' } }, 'input.paramsSchema', /not a valid JSON Schema/],
    ['a schema with an unknown keyword (strict mode)', { paramsSchema: { type: 'object', frobnicate: true } }, 'input.paramsSchema', /strict mode: unknown keyword/],
    ['a schema with an unknown format', { paramsSchema: { type: 'object', properties: { a: { type: 'string', format: 'zip-code' } } } }, 'input.paramsSchema', /unknown format/],
    ['a schema with a reference it cannot resolve', { paramsSchema: { type: 'object', properties: { a: { $ref: 'https://example.com/a.json' } } } }, 'input.paramsSchema', /can't resolve reference/],
    ['an asynchronous schema', { paramsSchema: { $async: true, type: 'object' } }, 'input.paramsSchema', /\$async/],
    ['a schema of something else than an object', { paramsSchema: { type: 'string' } }, 'input.paramsSchema', /describe an object/],
    ['a schema without a type', { paramsSchema: { properties: { a: { type: 'string' } } } }, 'input.paramsSchema', /strict mode: missing type "object"/],
    ['a schema that is a list', { paramsSchema: [{ type: 'object' }] }, 'input.paramsSchema', /JSON object/],
    ['a schema that is a string', { paramsSchema: '{"type": "object"}' }, 'input.paramsSchema', /JSON object/],
    ['a schema over 64 KiB', { paramsSchema: { type: 'object', description: 'x'.repeat(70 * 1024) } }, 'input.paramsSchema', /at most 65536 bytes/],
  ])('createActionType refuses %s with BAD_USER_INPUT and stores nothing', async (_what, change, field, message) => {
    const before = await customKeys()
    const input = { key: 'refused_type', description: 'Refused', paramsSchema: schemaOf('refused_type'), ...change }
    const res = await server.gql(CREATE, { i: input }, server.ownerToken)
    expect(codes(res)).toEqual(['BAD_USER_INPUT'])
    expect(res.errors![0]!.message).toMatch(message)
    expect(res.errors![0]!.extensions!.field).toBe(field)
    expect(await customKeys()).toEqual(before)
  })

  it('a key taken is CONFLICT, and the type stays as it was', async () => {
    const first = await create('close_ticket')
    const again = await server.gql(CREATE, { i: { key: 'close_ticket', description: 'Another', paramsSchema: { type: 'object' } } }, server.ownerToken)
    expect(codes(again)).toEqual(['CONFLICT'])
    expect((await server.gql(GET, { k: 'close_ticket' }, server.ownerToken)).data.actionType).toEqual(first)
  })

  it('updateActionType and deleteActionType refuse built-ins, another key and unknown keys; nothing changes', async () => {
    await create('reopen_ticket')
    const input = (key: string) => ({ key, description: 'Changed', paramsSchema: { type: 'object' } })
    const builtIn = await server.gql(UPDATE, { k: 'send_email', i: input('send_email') }, server.ownerToken)
    expect(codes(builtIn)).toEqual(['BAD_USER_INPUT'])
    expect(builtIn.errors![0]!.message).toMatch(/Built-in action types cannot be changed/)
    expect(codes(await server.gql(DELETE, { k: 'send_email' }, server.ownerToken))).toEqual(['BAD_USER_INPUT'])
    const rekeyed = await server.gql(UPDATE, { k: 'reopen_ticket', i: input('reopen_ticket_2') }, server.ownerToken)
    expect(codes(rekeyed)).toEqual(['BAD_USER_INPUT'])
    expect(rekeyed.errors![0]!.extensions!.field).toBe('input.key')
    expect(codes(await server.gql(UPDATE, { k: 'no_such_type', i: input('no_such_type') }, server.ownerToken))).toEqual(['NOT_FOUND'])
    expect(codes(await server.gql(DELETE, { k: 'no_such_type' }, server.ownerToken))).toEqual(['NOT_FOUND'])
    const bad = await server.gql(UPDATE, { k: 'reopen_ticket', i: { ...input('reopen_ticket'), paramsSchema: { type: 'nope' } } }, server.ownerToken)
    expect(codes(bad)).toEqual(['BAD_USER_INPUT'])
    expect(bad.errors![0]!.extensions!.field).toBe('input.paramsSchema')
    expect((await server.gql(GET, { k: 'reopen_ticket' }, server.ownerToken)).data.actionType).toMatchObject({ description: 'Custom reopen_ticket', paramsSchema: schemaOf('reopen_ticket') })
    expect((await server.gql(GET, { k: 'send_email' }, server.ownerToken)).data.actionType).toMatchObject({ description: 'Send an email', builtIn: true })
  })

  it('only approval:manage may create, update or delete one: a reviewer and an agent are FORBIDDEN, and nothing changes', async () => {
    const before = await create('escalate_ticket')
    for (const token of [rita.token, agent.token]) {
      const input = { key: 'escalate_ticket', description: 'Hijacked', paramsSchema: { type: 'object' } }
      expect(codes(await server.gql(CREATE, { i: { ...input, key: 'sneaky_type' } }, token))).toEqual(['FORBIDDEN'])
      expect(codes(await server.gql(UPDATE, { k: 'escalate_ticket', i: input }, token))).toEqual(['FORBIDDEN'])
      expect(codes(await server.gql(DELETE, { k: 'escalate_ticket' }, token))).toEqual(['FORBIDDEN'])
    }
    expect((await server.gql(GET, { k: 'escalate_ticket' }, server.ownerToken)).data.actionType).toEqual(before)
    expect((await server.gql(GET, { k: 'sneaky_type' }, server.ownerToken)).data.actionType).toBeNull()
    // reading the catalogue is for anyone signed in
    expect((await server.gql(GET, { k: 'escalate_ticket' }, rita.token)).data.actionType).toEqual(before)
  })
})

describe('a custom action type, end to end', () => {
  let ruleId: string
  let pendingId: string

  it('a rule gates it; params are checked against its schema; a reviewer approves an edit, checked too; the execution runs the edit', async () => {
    await create('run_sql', sqlSchema, 'Run SQL against a database')
    const rule = await createRule(server, {
      name: 'Writes need Rita',
      resourceType: 'AGENT_ACTION',
      actionType: 'run_sql',
      // conditions see the custom params as given
      conditions: { '!': { var: 'params.readOnly' } },
      primaryResolver: { type: 'NAMED_USER', userId: rita.id },
    })
    ruleId = rule.id
    expect(rule).toMatchObject({ actionType: 'run_sql', resourceType: 'AGENT_ACTION' })

    const wrongDb = await ask({ actionType: 'run_sql', params: { database: 'production', query: 'DELETE FROM users' } })
    expect(codes(wrongDb)).toEqual(['BAD_USER_INPUT'])
    expect(wrongDb.errors![0]!.extensions).toMatchObject({ field: 'input.params', pointer: '/database' })
    const noQuery = await ask({ actionType: 'run_sql', params: { database: 'billing' } })
    expect(noQuery.errors![0]!.extensions).toMatchObject({ code: 'BAD_USER_INPUT', field: 'input.params', pointer: '/query' })
    const extra = await ask({ actionType: 'run_sql', params: { database: 'billing', query: 'SELECT 1', sudo: true } })
    expect(codes(extra)).toEqual(['BAD_USER_INPUT'])
    // of the wrong resource type: custom types are agent actions
    const asRecord = await ask({ resourceType: 'RECORD_MUTATION', actionType: 'run_sql', params: { database: 'billing', query: 'SELECT 1' } })
    expect(asRecord.errors![0]!.extensions).toMatchObject({ code: 'BAD_USER_INPUT', field: 'input.actionType' })

    expect(await askOk({ actionType: 'run_sql', params: { database: 'analytics', query: 'SELECT 1', readOnly: true } })).toEqual({ approvalRequired: false, request: null })
    const asked = { database: 'billing', query: 'UPDATE invoices SET paid = true' }
    const gated = await askOk({ actionType: 'run_sql', params: asked, summary: 'Mark invoices paid' })
    expect(gated).toMatchObject({ approvalRequired: true, request: { status: 'PENDING', actionType: 'run_sql', params: asked } })
    expect(await reviewersOf(gated.request.id)).toEqual([{ id: rita.id }])
    const id = gated.request.id as string

    // in Rita's inbox like any other
    const inbox = await server.gql(`{ approvalInbox(first: 50) { edges { node { id actionType } } } }`, {}, rita.token)
    expect(inbox.data.approvalInbox.edges.map((e: { node: unknown }) => e.node)).toContainEqual({ id, actionType: 'run_sql' })

    const badEdit = await server.gql(APPROVE, { id, p: { ...asked, query: 42 } }, rita.token)
    expect(codes(badEdit)).toEqual(['BAD_USER_INPUT'])
    expect(badEdit.errors![0]!.extensions).toMatchObject({ field: 'params', pointer: '/query' })
    const edit = { ...asked, query: 'UPDATE invoices SET paid = true WHERE id = 7' }
    const approved = await server.gql(APPROVE, { id, p: edit }, rita.token)
    expect(approved.errors).toBeUndefined()
    expect(approved.data.approveRequest).toEqual({ status: 'APPROVED', edited: true, params: asked, approvedParams: edit })

    const claimed = await server.gql(
      `mutation { claimApprovedActions(actionTypes: ["run_sql"]) { request { id actionType execution { status params } } } }`,
      {},
      agent.token,
    )
    expect(claimed.errors).toBeUndefined()
    expect(claimed.data.claimApprovedActions).toEqual([{ request: { id, actionType: 'run_sql', execution: { status: 'RUNNING', params: edit } } }])

    // one left pending, for the schema change below
    pendingId = (await askOk({ actionType: 'run_sql', params: { database: 'analytics', query: 'TRUNCATE events' } })).request.id
  })

  it('updateActionType: later requests, and edits of pending ones, are checked against the new schema', async () => {
    const before = await askOk({ actionType: 'run_sql', params: { database: 'analytics', query: 'DELETE FROM sessions' } })
    expect(before.request.status).toBe('PENDING')
    const ticketed = { ...sqlSchema, required: [...sqlSchema.required, 'ticket'], properties: { ...sqlSchema.properties, ticket: { type: 'string', pattern: '^OPS-[0-9]+$' } } }
    const updated = await server.gql(UPDATE, { k: 'run_sql', i: { key: 'run_sql', description: 'Run SQL, with a ticket', paramsSchema: ticketed } }, server.ownerToken)
    expect(updated.errors).toBeUndefined()
    expect(updated.data.updateActionType).toEqual({ key: 'run_sql', resourceType: 'AGENT_ACTION', description: 'Run SQL, with a ticket', paramsSchema: ticketed, builtIn: false })

    const noTicket = await ask({ actionType: 'run_sql', params: { database: 'analytics', query: 'DELETE FROM sessions' } })
    expect(noTicket.errors![0]!.extensions).toMatchObject({ code: 'BAD_USER_INPUT', pointer: '/ticket' })
    const badTicket = await ask({ actionType: 'run_sql', params: { database: 'analytics', query: 'DELETE FROM sessions', ticket: 'later' } })
    expect(badTicket.errors![0]!.extensions).toMatchObject({ code: 'BAD_USER_INPUT', pointer: '/ticket' })
    const withTicket = await askOk({ actionType: 'run_sql', params: { database: 'analytics', query: 'DELETE FROM sessions', ticket: 'OPS-12' } })
    expect(withTicket.request.status).toBe('PENDING')

    // a request made under the old schema: an edit must satisfy the new one
    const edit = { database: 'analytics', query: 'TRUNCATE events_2024' }
    const stale = await server.gql(APPROVE, { id: pendingId, p: edit }, rita.token)
    expect(stale.errors![0]!.extensions).toMatchObject({ code: 'BAD_USER_INPUT', field: 'params', pointer: '/ticket' })
    const fixed = await server.gql(APPROVE, { id: pendingId, p: { ...edit, ticket: 'OPS-13' } }, rita.token)
    expect(fixed.data.approveRequest).toMatchObject({ status: 'APPROVED', edited: true })
  })

  it('deleteActionType: CONFLICT while a rule names it, enabled or not; then deleted, unknown to requests and rules', async () => {
    // a request made before the delete, to approve after it
    const pending = await askOk({ actionType: 'run_sql', params: { database: 'billing', query: 'VACUUM', ticket: 'OPS-14' } })
    const inUse = await server.gql(DELETE, { k: 'run_sql' }, server.ownerToken)
    expect(codes(inUse)).toEqual(['CONFLICT'])
    expect(inUse.errors![0]!.message).toMatch(/"Writes need Rita"/)
    const rule = await server.gql(
      `mutation($id: ID!, $i: ApprovalRuleInput!) { updateApprovalRule(id: $id, input: $i) { enabled } }`,
      { id: ruleId, i: { name: 'Writes need Rita', resourceType: 'AGENT_ACTION', actionType: 'run_sql', enabled: false, primaryResolver: { type: 'NAMED_USER', userId: rita.id } } },
      server.ownerToken,
    )
    expect(rule.data.updateApprovalRule).toEqual({ enabled: false })
    expect(codes(await server.gql(DELETE, { k: 'run_sql' }, server.ownerToken))).toEqual(['CONFLICT'])
    expect((await server.gql(GET, { k: 'run_sql' }, server.ownerToken)).data.actionType).toMatchObject({ key: 'run_sql' })

    expect((await server.gql(`mutation($id: ID!) { deleteApprovalRule(id: $id) }`, { id: ruleId }, server.ownerToken)).data.deleteApprovalRule).toBe(true)
    const deleted = await server.gql(DELETE, { k: 'run_sql' }, server.ownerToken)
    expect(deleted).toEqual({ data: { deleteActionType: true } })
    expect((await server.gql(GET, { k: 'run_sql' }, server.ownerToken)).data.actionType).toBeNull()
    expect(await customKeys()).not.toContain('run_sql')
    expect(codes(await server.gql(DELETE, { k: 'run_sql' }, server.ownerToken))).toEqual(['NOT_FOUND'])

    const unknown = await ask({ actionType: 'run_sql', params: { database: 'billing', query: 'SELECT 1', ticket: 'OPS-1' } })
    expect(codes(unknown)).toEqual(['BAD_USER_INPUT'])
    expect(unknown.errors![0]!.message).toMatch(/Unknown action type "run_sql"/)
    expect(unknown.errors![0]!.extensions!.field).toBe('input.actionType')
    const ruleForIt = await server.gql(
      `mutation($i: ApprovalRuleInput!) { createApprovalRule(input: $i) { ${RULE_FIELDS} } }`,
      { i: { name: 'Too late', resourceType: 'AGENT_ACTION', actionType: 'run_sql', primaryResolver: { type: 'NAMED_USER', userId: rita.id } } },
      server.ownerToken,
    )
    expect(codes(ruleForIt)).toEqual(['BAD_USER_INPUT'])
    expect(ruleForIt.errors![0]!.extensions!.field).toBe('input.actionType')

    // the request made before: an edit can no longer be checked, an approval as asked still goes through
    const edit = await server.gql(APPROVE, { id: pending.request.id, p: { database: 'billing', query: 'VACUUM FULL', ticket: 'OPS-14' } }, rita.token)
    expect(edit.errors![0]!.extensions).toMatchObject({ code: 'BAD_USER_INPUT', field: 'params' })
    expect((await server.gql(APPROVE, { id: pending.request.id }, rita.token)).data.approveRequest).toMatchObject({ status: 'APPROVED', edited: false })
  })

  it('deleting a type while a rule naming it is created: one of the two wins, never both', async () => {
    for (let round = 0; round < 5; round++) {
      const key = `race_${round}`
      await create(key)
      const [deleted, created] = await Promise.all([
        server.gql(DELETE, { k: key }, server.ownerToken),
        server.gql(
          `mutation($i: ApprovalRuleInput!) { createApprovalRule(input: $i) { id } }`,
          { i: { name: `race ${round}`, resourceType: 'AGENT_ACTION', actionType: key, primaryResolver: { type: 'NAMED_USER', userId: rita.id } } },
          server.ownerToken,
        ),
      ])
      if (deleted.errors) {
        expect(codes(deleted)).toEqual(['CONFLICT'])
        expect(created.errors).toBeUndefined()
        expect((await server.gql(GET, { k: key }, server.ownerToken)).data.actionType).toMatchObject({ key })
      } else {
        expect(deleted.data.deleteActionType).toBe(true)
        expect(codes(created)).toEqual(['BAD_USER_INPUT'])
      }
    }
    // no rule names a type that does not exist
    const rules = (await server.gql(`{ approvalRules { actionType } }`, {}, server.ownerToken)).data.approvalRules as { actionType: string }[]
    const known = new Set([...BUILT_INS, ...(await customKeys())])
    expect(rules.filter((r) => !known.has(r.actionType))).toEqual([])
  })
})

describe('what a custom action type costs a request', () => {
  it('none once in memory, like a built-in: an action no rule gates costs no SQL at all', async () => {
    await create('tag_ticket')
    await createRule(server, { name: 'Tags in triage', resourceType: 'AGENT_ACTION', actionType: 'tag_ticket', module: 'triage', primaryResolver: { type: 'NAMED_USER', userId: rita.id } })
    const input = (n: number) => ({ actionType: 'tag_ticket', module: 'other', params: { id: `T-${n}` } })
    expect(await askOk(input(1))).toEqual({ approvalRequired: false, request: null }) // reads the type and the rules
    statements = []
    expect(await askOk(input(2))).toEqual({ approvalRequired: false, request: null })
    expect(statements).toEqual([])
    // a gated one costs what a built-in does (hot-path.test.ts): the reviewers, then one write
    statements = []
    const gated = await server.gql(`mutation($i: RequestApprovalInput!) { requestApproval(input: $i) { request { id status } } }`, { i: { resourceType: 'AGENT_ACTION', ...input(3), module: 'triage' } }, agent.token)
    expect(gated.data.requestApproval.request.status).toBe('PENDING')
    expect(statements).toHaveLength(2)
    // and a change of it applies at the next request
    const changed = await server.gql(UPDATE, { k: 'tag_ticket', i: { key: 'tag_ticket', description: 'Tag', paramsSchema: schemaOf('tag_ticket', { required: ['id', 'note'] }) } }, server.ownerToken)
    expect(changed.errors).toBeUndefined()
    expect((await ask(input(4))).errors![0]!.extensions).toMatchObject({ code: 'BAD_USER_INPUT', pointer: '/note' })
  })
})
