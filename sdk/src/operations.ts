// The GraphQL operations the SDK sends, and the shapes of what they return.

/** The final state of a request, as `approvalDecision` sends it. */
export interface DecidedRequest {
  id: string
  status: 'PENDING' | 'APPROVED' | 'REJECTED' | 'EXPIRED' | 'CANCELLED'
  decidedBy: { name: string } | null
  decisionComment: string | null
  execution: ExecutionState | null
}

/** An execution as the SDK reads it. */
export interface ExecutionState {
  status: 'READY' | 'RUNNING' | 'SUCCEEDED' | 'FAILED'
  params: unknown
  paramsDigest: string
  attempts: number
  result: unknown
  error: string | null
}

/** A lease on one attempt at running an approved action. */
export interface LeaseData {
  leaseToken: string
  attempt: number
  leaseExpiresAt: string
  request: { id: string; actionType: string; params: unknown; edited?: boolean; execution: { params: unknown; paramsDigest: string } | null }
}

const EXECUTION = `execution { status params paramsDigest attempts result error }`
const DECIDED = `id status decidedBy { name } decisionComment ${EXECUTION}`
const LEASE = `leaseToken attempt leaseExpiresAt request { id actionType params edited execution { params paramsDigest } }`

export const REQUEST_APPROVAL = `mutation RequestApproval($input: RequestApprovalInput!) {
  requestApproval(input: $input) { approvalRequired request { ${DECIDED} } }
}`

export const APPROVAL_DECISION = `subscription ApprovalDecision($requestId: ID!) { approvalDecision(requestId: $requestId) { ${DECIDED} } }`

export const APPROVAL_REQUEST = `query ApprovalRequest($id: ID!) { approvalRequest(id: $id) { ${DECIDED} events { type comment } } }`

export const CLAIM_EXECUTION = `mutation ClaimExecution($requestId: ID!, $leaseSeconds: Int) {
  claimExecution(requestId: $requestId, leaseSeconds: $leaseSeconds) { ${LEASE} }
}`

export const CLAIM_APPROVED_ACTIONS = `mutation ClaimApprovedActions($limit: Int, $leaseSeconds: Int, $actionTypes: [String!]) {
  claimApprovedActions(limit: $limit, leaseSeconds: $leaseSeconds, actionTypes: $actionTypes) { ${LEASE} }
}`

export const EXTEND_LEASE = `mutation ExtendExecutionLease($leaseToken: String!, $leaseSeconds: Int) {
  extendExecutionLease(leaseToken: $leaseToken, leaseSeconds: $leaseSeconds) { leaseExpiresAt }
}`

export const COMPLETE_EXECUTION = `mutation CompleteExecution($leaseToken: String!, $result: JSON) {
  completeExecution(leaseToken: $leaseToken, result: $result) { id }
}`

export const FAIL_EXECUTION = `mutation FailExecution($leaseToken: String!, $error: String!, $retryable: Boolean) {
  failExecution(leaseToken: $leaseToken, error: $error, retryable: $retryable) { id }
}`

export const APPROVED_ACTIONS = `subscription ApprovedActions($actionTypes: [String!]) { approvedActions(actionTypes: $actionTypes) { id actionType } }`

/** The fields a reviewer agent's decide() sees. */
export const REVIEW_REQUEST = `id status resourceType actionType module recordId params approvedParams edited stage stageCount requiredApprovals
  summary context createdAt expiresAt escalated requester { __typename id name } onBehalfOf { id name } rule { id name description }`

export const APPROVAL_INBOX_QUERY = `query ApprovalInbox($after: String) {
  approvalInbox(first: 50, after: $after) { edges { node { ${REVIEW_REQUEST} } } pageInfo { hasNextPage endCursor } }
}`

export const APPROVAL_INBOX_SUBSCRIPTION = `subscription ApprovalInbox { approvalInbox { type request { ${REVIEW_REQUEST} } } }`

export const APPROVE_REQUEST = `mutation ApproveRequest($id: ID!, $comment: String) { approveRequest(id: $id, comment: $comment) { id status } }`
export const REJECT_REQUEST = `mutation RejectRequest($id: ID!, $comment: String) { rejectRequest(id: $id, comment: $comment) { id status } }`
export const ESCALATE_REQUEST = `mutation EscalateRequest($id: ID!, $reason: String!) { escalateRequest(id: $id, reason: $reason) { id status } }`
