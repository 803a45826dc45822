import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { codes, createAgentWithToken, createRule, createUserWithToken, getRequest, RULE_FIELDS, startServer, type TestServer } from './harness.js'

let server: TestServer
let member: { id: string; token: string }
let reviewer: { id: string; token: string }
let agent: { id: string; token: string }

beforeAll(async () => {
  server = await startServer()
  member = await createUserWithToken(server, { email: 'm@example.com', name: 'Member', roleKeys: ['member'] })
  reviewer = await createUserWithToken(server, { email: 'r@example.com', name: 'Reviewer', roleKeys: ['member'] })
  agent = await createAgentWithToken(server, { name: 'Mailer', ownerId: member.id })
})
afterAll(() => server?.destroy())

const CREATE = `mutation($input: ApprovalRuleInput!) { createApprovalRule(input: $input) { ${RULE_FIELDS} } }`
const UPDATE = `mutation($id: ID!, $input: ApprovalRuleInput!) { updateApprovalRule(id: $id, input: $input) { ${RULE_FIELDS} } }`
const ruleCount = async () => (await server.gql(`{ approvalRules { id } }`, {}, server.ownerToken)).data.approvalRules.length as number

const emailRule = () => ({
  name: 'Outbound email',
  resourceType: 'AGENT_ACTION',
  actionType: 'send_email',
  primaryResolver: { type: 'NAMED_USER', userId: reviewer.id },
})

describe('approval rules', () => {
  it('creates, reads, lists, updates and deletes a rule, recording who and which version', async () => {
    const created = await createRule(server, {
      ...emailRule(),
      description: 'Emails to outside addresses',
      priority: 5,
      conditions: { '!': { in: ['@example.com', { var: 'params.to' }] } },
      fallbackResolver: { type: 'ROLE', roleKey: 'admin' },
      expiresAfterSeconds: 3600,
      escalateAfterSeconds: 600,
    })
    expect(created).toMatchObject({
      name: 'Outbound email',
      version: 1,
      enabled: true,
      priority: 5,
      allowSelfApproval: false,
      primaryResolver: { type: 'NAMED_USER', user: { id: reviewer.id } },
      fallbackResolver: { type: 'ROLE', roleKey: 'admin', role: { key: 'admin' } },
      expiresAfterSeconds: 3600,
    })
    const read = await server.gql(`query($id: ID!) { approvalRule(id: $id) { name createdBy { name } updatedBy { name } } }`, { id: created.id }, server.ownerToken)
    expect(read.data.approvalRule).toEqual({ name: 'Outbound email', createdBy: { name: 'Olivia Owner' }, updatedBy: { name: 'Olivia Owner' } })

    const updated = await server.gql(UPDATE, { id: created.id, input: { ...emailRule(), name: 'Renamed', enabled: false } }, server.ownerToken)
    expect(updated.data.updateApprovalRule).toMatchObject({ name: 'Renamed', version: 2, enabled: false, fallbackResolver: null, conditions: null })

    const deleted = await server.gql(`mutation($id: ID!) { deleteApprovalRule(id: $id) }`, { id: created.id }, server.ownerToken)
    expect(deleted.data.deleteApprovalRule).toBe(true)
    expect(codes(await server.gql(`mutation($id: ID!) { deleteApprovalRule(id: $id) }`, { id: created.id }, server.ownerToken))).toEqual(['NOT_FOUND'])
    expect((await server.gql(`query($id: ID!) { approvalRule(id: $id) { id } }`, { id: created.id }, server.ownerToken)).data.approvalRule).toBeNull()
  })

  it('lists the action type catalogue', async () => {
    const res = await server.gql(`{ actionTypes { key resourceType } }`, {}, agent.token)
    expect(res.data.actionTypes).toEqual([
      { key: 'send_email', resourceType: 'AGENT_ACTION' },
      { key: 'post_to_social', resourceType: 'AGENT_ACTION' },
      { key: 'create_landing_page', resourceType: 'AGENT_ACTION' },
      { key: 'browse_website', resourceType: 'AGENT_ACTION' },
      { key: 'call_tool', resourceType: 'AGENT_ACTION' },
      { key: 'create_record', resourceType: 'RECORD_MUTATION' },
      { key: 'update_record', resourceType: 'RECORD_MUTATION' },
    ])
  })

  it.each([
    ['an action type outside the catalogue', { actionType: 'launch_rocket' }, 'input.actionType', /Unknown action type/],
    ['an action type of the other resource type', { resourceType: 'RECORD_MUTATION' }, 'input.actionType', /AGENT_ACTION/],
    ['malformed JSON conditions', { conditions: '{"==": [1, ' }, 'input.conditions', /not valid JSON/],
    ['an unknown operator', { conditions: { and: [{ '==': [1, 1] }, { teleport: [1] }] } }, 'input.conditions', /Unknown operator "teleport"/],
    ['conditions that are not an operation', { conditions: [1, 2] }, 'input.conditions', /JSONLogic operation/],
    ['NAMED_USER without userId', { primaryResolver: { type: 'NAMED_USER' } }, 'input.primaryResolver.userId', /needs userId/],
    ['a stray id', { primaryResolver: { type: 'MANAGER', roleKey: 'admin' } }, 'input.primaryResolver.roleKey', /takes no roleKey/],
    ['an unknown role', { primaryResolver: { type: 'ROLE', roleKey: 'wizard' } }, 'input.primaryResolver.roleKey', /Unknown role/],
    ['an unknown agent', { primaryResolver: { type: 'AGENT', agentId: 'QWdlbnQ6MDAwMDAwMDAtMDAwMC0wMDAwLTAwMDAtMDAwMDAwMDAwMDAw' } }, 'input.primaryResolver.agentId', /No agent/],
    ['a negative delay', { primaryResolver: { type: 'AUTO_APPROVE', delaySeconds: -1 } }, 'input.primaryResolver.delaySeconds', /0 or more/],
    ['AUTO_APPROVE without delay', { primaryResolver: { type: 'AUTO_APPROVE' } }, 'input.primaryResolver.delaySeconds', /needs delaySeconds/],
    ['a bad fallback', { fallbackResolver: { type: 'NAMED_USER', userId: 'nope' } }, 'input.fallbackResolver.userId', /ID/],
    ['an empty name', { name: ' ' }, 'input.name', /empty/],
    ['a zero expiry', { expiresAfterSeconds: 0 }, 'input.expiresAfterSeconds', /positive/],
  ])('refuses %s with BAD_USER_INPUT and saves nothing', async (_what, change, field, message) => {
    const before = await ruleCount()
    const res = await server.gql(CREATE, { input: { ...emailRule(), ...change } }, server.ownerToken)
    expect(codes(res)).toEqual(['BAD_USER_INPUT'])
    expect(res.errors![0]!.message).toMatch(message)
    expect(res.errors![0]!.extensions!.field).toBe(field)
    expect(await ruleCount()).toBe(before)
  })

  it('refuses a bad update and keeps the rule as it was', async () => {
    const rule = await createRule(server, emailRule())
    const res = await server.gql(UPDATE, { id: rule.id, input: { ...emailRule(), name: 'Changed', conditions: { nope: 1 } } }, server.ownerToken)
    expect(codes(res)).toEqual(['BAD_USER_INPUT'])
    const after = await server.gql(`query($id: ID!) { approvalRule(id: $id) { name version } }`, { id: rule.id }, server.ownerToken)
    expect(after.data.approvalRule).toEqual({ name: 'Outbound email', version: 1 })
  })

  it('is managed only with approval:manage', async () => {
    const rule = await createRule(server, emailRule())
    // node(id:) does not show it to others either
    expect((await server.gql(`query($id: ID!) { node(id: $id) { id } }`, { id: rule.id }, member.token)).data.node).toBeNull()
    expect((await server.gql(`query($id: ID!) { node(id: $id) { id } }`, { id: rule.id }, server.ownerToken)).data.node).toEqual({ id: rule.id })
    expect(codes(await server.gql(CREATE, { input: emailRule() }, member.token))).toEqual(['FORBIDDEN'])
    expect(codes(await server.gql(UPDATE, { id: rule.id, input: emailRule() }, member.token))).toEqual(['FORBIDDEN'])
    expect(codes(await server.gql(`mutation($id: ID!) { deleteApprovalRule(id: $id) }`, { id: rule.id }, agent.token))).toEqual(['FORBIDDEN'])
    expect(codes(await server.gql(`{ approvalRules { id } }`, {}, member.token))).toEqual(['FORBIDDEN'])
    expect(codes(await server.gql(CREATE, { input: emailRule() }))).toEqual(['UNAUTHENTICATED'])
  })

  it('never changes a request already created: it keeps the rule as it matched', async () => {
    const rule = await createRule(server, { ...emailRule(), actionType: 'post_to_social', name: 'Social v1', expiresAfterSeconds: 600 })
    // the requesting agent may read only the rule's id, name and description: it asks for none of it
    const req = await server.gql(
      `mutation($input: RequestApprovalInput!) { requestApproval(input: $input) { request { id } } }`,
      { input: { resourceType: 'AGENT_ACTION', actionType: 'post_to_social', params: { text: 'hi' } } },
      agent.token,
    )
    expect(req.errors).toBeUndefined()
    const id = req.data.requestApproval.request.id
    await server.gql(
      UPDATE,
      { id: rule.id, input: { ...emailRule(), actionType: 'post_to_social', name: 'Social v2', primaryResolver: { type: 'ROLE', roleKey: 'admin' } } },
      server.ownerToken,
    )
    const after = await getRequest(server, server.ownerToken, id)
    const kept = await server.gql(`query($id: ID!) { approvalRequest(id: $id) { rule { id name version } } }`, { id }, server.ownerToken)
    expect(kept.data.approvalRequest.rule).toEqual({ id: rule.id, name: 'Social v1', version: 1 })
    expect(after.data.approvalRequest.reviewers.map((r: { id: string }) => r.id)).toEqual([reviewer.id])
    expect(after.data.approvalRequest.expiresAt).not.toBeNull()
    // deleting the rule leaves the request, and its snapshot, in place
    await server.gql(`mutation($id: ID!) { deleteApprovalRule(id: $id) }`, { id: rule.id }, server.ownerToken)
    expect((await getRequest(server, server.ownerToken, id)).data.approvalRequest.rule.name).toBe('Social v1')
  })
})
