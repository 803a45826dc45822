// What the SDK's tests share: a server with a reviewer, an agent owned by a plain member (so
// that its owner is not the reviewer), and a rule per test on its own module.
import {
  createAgentWithToken,
  createRule,
  createUserWithToken,
  decide,
  type TestServer,
} from '../../server/test/harness.js'

export type Principal = { id: string; token: string }

/** A promise with its resolve function. */
export function deferred<T = void>(): { promise: Promise<T>; resolve: (value: T) => void } {
  let resolve!: (value: T) => void
  const promise = new Promise<T>((r) => (resolve = r))
  return { promise, resolve }
}

/** A member who owns the agents (and so is never their reviewer). */
export function createOwner(server: TestServer, name = 'Boss') {
  return createUserWithToken(server, { email: `${name.toLowerCase().replace(/\W/g, '')}@example.com`, name, roleKeys: ['member'] })
}

let agentSeq = 0
/** A fresh agent owned by `ownerId`, so that each test sees only its own actions. */
export function createAgent(server: TestServer, ownerId: string, name = `Agent ${++agentSeq}`) {
  return createAgentWithToken(server, { name, ownerId })
}

let moduleSeq = 0
/** A new module gated by a send_email rule (NAMED_USER `reviewerId` unless `rule` says otherwise). */
export async function gatedModule(server: TestServer, reviewerId: string, rule: Record<string, unknown> = {}): Promise<string> {
  const module = `sdk${++moduleSeq}`
  await createRule(server, {
    name: module,
    resourceType: 'AGENT_ACTION',
    actionType: 'send_email',
    module,
    primaryResolver: { type: 'NAMED_USER', userId: reviewerId },
    ...rule,
  })
  return module
}

/** Params that satisfy send_email's JSON Schema. */
export const email = (n: number | string) => ({ to: 'ceo@client.test', subject: `Quote ${n}`, body: 'Hello' })

/** Asks for approval of send_email as `agent`, through the API; returns the request id. */
export async function ask(server: TestServer, agent: Principal, module: string, n: number | string): Promise<string> {
  const res = await server.gql(
    `mutation($i: RequestApprovalInput!) { requestApproval(input: $i) { request { id } } }`,
    { i: { resourceType: 'AGENT_ACTION', actionType: 'send_email', module, params: email(n) } },
    agent.token,
  )
  if (res.errors) throw new Error(JSON.stringify(res.errors))
  return res.data.requestApproval.request.id
}

/** Approves (or rejects) as `reviewer`; throws on errors. */
export async function decideOk(server: TestServer, reviewer: Principal, id: string, verb: 'approveRequest' | 'rejectRequest', comment?: string) {
  const res = await decide(server, reviewer.token, id, verb, comment)
  if (res.errors) throw new Error(JSON.stringify(res.errors))
}

/** The request's execution and decision, read through the API as `token`. */
export async function readRequest(server: TestServer, token: string, id: string) {
  // what its requester may read: how it is reviewed (escalated, reviewers) is for readReview
  const res = await server.gql(
    `query($id: ID!) { approvalRequest(id: $id) { id status decisionComment decidedBy { name }
      execution { status attempts result error } } }`,
    { id },
    token,
  )
  if (res.errors) throw new Error(JSON.stringify(res.errors))
  return res.data.approvalRequest
}

/** How a request is reviewed, as an approval manager (the service owner) reads it: its requester may not. */
export async function readReview(server: TestServer, id: string) {
  const res = await server.gql(`query($id: ID!) { approvalRequest(id: $id) { status escalated reviewers { name } } }`, { id }, server.ownerToken)
  if (res.errors) throw new Error(JSON.stringify(res.errors))
  return res.data.approvalRequest
}
