// Two server processes, configured only by environment variables, sharing one PostgreSQL and one Redis.
import type { ChildProcess } from 'node:child_process'
import { afterAll, expect, it } from 'vitest'
import { collect, freshDatabase, startMain, type DatabaseLocation } from './harness.js'
import { createClient } from 'graphql-ws'
import WebSocket from 'ws'

const children: ChildProcess[] = []
let location: DatabaseLocation | undefined
afterAll(async () => {
  for (const c of children) c.kill('SIGTERM')
  await Promise.all(children.map((c) => (c.exitCode === null ? new Promise((r) => c.once('exit', r)) : null)))
  await location?.drop()
})

it('a decision made through one process reaches an agent waiting on the other', async () => {
  location = await freshDatabase()
  const env = {
    DATABASE_URL: (location as { url: string }).url,
    REDIS_URL: process.env.TEST_REDIS_URL!,
    PORT: '0',
    HOST: '127.0.0.1',
    APPROVALS_BOOTSTRAP_TOKEN: 'two-processes-owner-token',
    LOG_LEVEL: 'warn',
  }
  const [one, two] = await Promise.all([startMain({ ...env, LOG_LEVEL: 'info' }), startMain({ ...env, LOG_LEVEL: 'info' })])
  children.push(one.child, two.child)
  const gql = async (port: number, query: string, variables: object = {}, token = 'two-processes-owner-token') => {
    const res = await fetch(`http://127.0.0.1:${port}/graphql`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', authorization: `Bearer ${token}` },
      body: JSON.stringify({ query, variables }),
    })
    const body = (await res.json()) as { data: any; errors?: unknown }
    if (body.errors) throw new Error(JSON.stringify(body.errors))
    return body.data
  }
  const owner = (await gql(one.port, `{ viewer { principal { id } } }`)).viewer.principal.id
  const agent = (await gql(one.port, `mutation { createAgent(input: { name: "Agent" }) { id } }`)).createAgent.id
  const agentToken = (await gql(one.port, `mutation($id: ID!) { createApiToken(principalId: $id, name: "t") { token } }`, { id: agent })).createApiToken.token
  await gql(one.port, `mutation($u: ID!) { createApprovalRule(input: { name: "g", resourceType: AGENT_ACTION, actionType: "send_email", primaryResolver: { type: NAMED_USER, userId: $u }, allowSelfApproval: true }) { id } }`, { u: owner })
  const asked = await gql(one.port, `mutation { requestApproval(input: { resourceType: AGENT_ACTION, actionType: "send_email", params: { to: "x@corp.test", subject: "Hi", body: "Hello" } }) { request { id } } }`, {}, agentToken)
  const id = asked.requestApproval.request.id

  const client = createClient({ url: `ws://127.0.0.1:${one.port}/graphql`, webSocketImpl: WebSocket, connectionParams: { authorization: `Bearer ${agentToken}` }, retryAttempts: 0 })
  const waiting = collect(client, `subscription($id: ID!) { approvalDecision(requestId: $id) { id status } }`, { id })
  await new Promise((r) => setTimeout(r, 300))
  await gql(two.port, `mutation($id: ID!) { approveRequest(id: $id) { status } }`, { id })
  await waiting.completed
  expect(waiting.events).toEqual([{ data: { approvalDecision: { id, status: 'APPROVED' } } }])
  await client.dispose()
})
