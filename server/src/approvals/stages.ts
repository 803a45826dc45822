// Stages and quorum: a request moves through its rule's stages in order, each decided by its own
// reviewers, each needing its number of approvals. An approval that leaves its stage short is a
// vote (VOTED); the stage's last needed approval moves the request to the next stage (ADVANCED)
// or approves it. Every step runs under the request's row lock (lockRequest), so of concurrent
// votes each counts once and exactly one of them moves the request on.
import { encodeGlobalID } from '@pothos/plugin-relay'
import { principalColumn, type Viewer } from '../auth/viewer.js'
import { Prisma } from '../db.js'
import { conflict } from '../errors.js'
import type { ApprovalRequest } from '../generated/prisma/client.js'
import { addReviewers, assignmentColumns, finalize, reinstateReviewers, requestRule } from './requests.js'
import { admitReviewers, assign, type Assignee, type Assignment, type Delegation, type ReviewSubject } from './reviewers.js'
import { stageOf } from './rules.js'

type Tx = Prisma.TransactionClient

const seconds = (date: Date, s: number) => new Date(date.getTime() + s * 1000)

const principalActor = (actor: Viewer) => (actor.kind === 'user' ? { actorUserId: actor.id } : { actorAgentId: actor.id })

/** Takes the request's row lock until the transaction ends: its votes and stage changes wait for each other. */
export async function lockRequest(tx: Tx, id: string, decisionChannel?: DecisionChannelName): Promise<void> {
  if (!decisionChannel) {
    await tx.$queryRaw`SELECT 1 FROM "ApprovalRequest" WHERE "id" = ${id}::uuid FOR UPDATE`
    return
  }
  // and, in the same statement, where the decision of this transaction is made: the chain trigger
  // writes it into the decision's events (the decision_channel migration)
  await tx.$queryRaw`
    SELECT 1 FROM "ApprovalRequest" r, set_config('approvals.decision_channel', ${decisionChannel}, true)
    WHERE r."id" = ${id}::uuid FOR UPDATE OF r`
}

/** Where a decision is made: the inbox, another client of the API, an email's decision link, a Slack button. */
export type DecisionChannelName = 'INBOX' | 'API' | 'EMAIL' | 'SLACK'

/** Who approved the request already, in any stage (user or agent ids). */
export async function votersOf(tx: Tx, requestId: string): Promise<string[]> {
  const votes = await tx.approvalVote.findMany({ where: { requestId }, select: { userId: true, agentId: true } })
  return votes.map((v) => (v.userId ?? v.agentId)!)
}

/**
 * What decides who may review a stored request: its parties (the requesting agent's owner read
 * now), its rule's self-approval, and who voted already. Every path that gives a stored request
 * reviewers builds its subject here.
 */
export async function subjectOf(tx: Tx, request: ApprovalRequest): Promise<ReviewSubject> {
  const agent = request.requesterAgentId ? await tx.agent.findUnique({ where: { id: request.requesterAgentId }, select: { ownerId: true } }) : null
  return {
    requesterUserId: request.requesterUserId,
    requesterAgentId: request.requesterAgentId,
    requesterOwnerId: agent?.ownerId ?? null,
    onBehalfOfId: request.onBehalfOfId,
    recordRefId: request.recordRefId,
    allowSelfApproval: requestRule(request).allowSelfApproval,
    voters: await votersOf(tx, request.id),
  }
}

/** DELEGATED events: each names the away reviewer and the delegate who reviews in their place. */
export function delegationEvents(delegations: Delegation[]) {
  return delegations.map((d) => ({
    type: 'DELEGATED' as const,
    comment: 'The reviewer is away; their delegate reviews in their place.',
    details: { absent: encodeGlobalID('User', d.absentId), delegate: encodeGlobalID('User', d.delegateId) },
  }))
}

/** Records a reviewer's approval as a vote of the request's current stage; CONFLICT if they approved it already, in any stage. */
async function recordVote(tx: Tx, request: ApprovalRequest, viewer: Viewer, comment: string | null, now: Date) {
  const earlier = await tx.approvalVote.findFirst({ where: { requestId: request.id, ...principalColumn(viewer) }, select: { stage: true } })
  if (earlier) throw conflict(`You approved this request already (in stage ${earlier.stage}); nobody approves one request twice.`)
  await tx.approvalVote.create({ data: { requestId: request.id, stage: request.stage, ...principalColumn(viewer), comment, at: now } })
}

/**
 * A reviewer's edit of a locked, pending request in a stage where others approved already: their
 * approvals were of something else, so they no longer count. Their votes are removed, they are
 * reviewers of the stage again (admitted as anyone is; their inboxes get the request back, and
 * the notifications of a new review go out), and a VOTES_VOIDED event names them. Call after the
 * edit is stored and before the editor's own vote.
 */
export async function voidStageVotes(tx: Tx, request: ApprovalRequest, editor: Viewer, now: Date): Promise<void> {
  const votes = await tx.approvalVote.findMany({ where: { requestId: request.id, stage: request.stage }, orderBy: [{ at: 'asc' }, { id: 'asc' }] })
  if (votes.length === 0) return
  await tx.approvalVote.deleteMany({ where: { id: { in: votes.map((v) => v.id) } } })
  const voters: Assignee[] = votes.map((v) => (v.userId ? { userId: v.userId } : { agentId: v.agentId! }))
  const { admitted } = await admitReviewers(tx, await subjectOf(tx, request), voters)
  await reinstateReviewers(tx, request.id, admitted)
  const names = voters.map((v) => (v.userId ? encodeGlobalID('User', v.userId) : encodeGlobalID('Agent', v.agentId!)))
  const some = votes.length === 1 ? 'the approval' : `the ${votes.length} approvals`
  await tx.approvalEvent.create({
    data: {
      requestId: request.id,
      type: 'VOTES_VOIDED',
      ...principalActor(editor),
      comment: `The params were edited after ${some} given in stage ${request.stage}: ${votes.length === 1 ? 'it no longer counts' : 'they no longer count'}, and ${votes.length === 1 ? 'its reviewer reviews' : 'their reviewers review'} the edited params again.`,
      details: { stage: request.stage, voters: names },
      at: now,
    },
  })
}

/**
 * A current reviewer's approval of a locked, pending request: a vote of its stage. Short of the
 * stage's approvals, the reviewer leaves the stage's reviewers and the request stays PENDING
 * (VOTED); the last needed one moves it on (passStage). Returns the request after it, or null
 * when a guard failed (decided meanwhile, expired).
 */
export async function approveInStage(
  tx: Tx,
  request: ApprovalRequest,
  viewer: Viewer,
  comment: string | null,
  now: Date,
  guard: Prisma.ApprovalRequestWhereInput,
): Promise<ApprovalRequest | null> {
  const before = await tx.approvalVote.count({ where: { requestId: request.id, stage: request.stage } })
  await recordVote(tx, request, viewer, comment, now)
  const approvals = before + 1
  if (approvals >= request.requiredApprovals) return passStage(tx, request, viewer, comment, now, guard)
  const { count } = await tx.approvalRequest.updateMany({ where: { id: request.id, status: 'PENDING', ...guard }, data: { updatedAt: now } })
  if (count === 0) return null
  await tx.approvalReviewer.updateMany({ where: { requestId: request.id, active: true, ...principalColumn(viewer) }, data: { active: false } })
  await tx.approvalEvent.create({
    data: {
      requestId: request.id,
      type: 'VOTED',
      ...principalActor(viewer),
      comment,
      details: { stage: request.stage, approvals, requiredApprovals: request.requiredApprovals },
      at: now,
    },
  })
  return tx.approvalRequest.findUniqueOrThrow({ where: { id: request.id } })
}

/**
 * The request's current stage is done (its approvals are in, or it was approved automatically):
 * the next stage's reviewers take over, or, after the last stage, the request is APPROVED.
 */
export async function passStage(
  tx: Tx,
  request: ApprovalRequest,
  actor: Viewer | null,
  comment: string | null,
  now: Date,
  guard: Prisma.ApprovalRequestWhereInput = {},
): Promise<ApprovalRequest | null> {
  if (request.stage >= request.stageCount) return finalize(tx, request.id, 'APPROVED', actor, comment, now, guard)
  const rule = requestRule(request)
  const to = request.stage + 1
  const stage = stageOf(rule, to)
  const assignment: Assignment = await assign(tx, stage, await subjectOf(tx, request), 'primary')
  const { resolution } = assignment
  const escalated = assignment.escalations.length > 0
  const { count } = await tx.approvalRequest.updateMany({
    where: { id: request.id, status: 'PENDING', stage: request.stage, ...guard },
    data: {
      stage: to,
      requiredApprovals: stage.requiredApprovals,
      escalated,
      escalateAt: !escalated && stage.escalateAfterSeconds && resolution.kind === 'reviewers' ? seconds(now, stage.escalateAfterSeconds) : null,
      ...assignmentColumns(assignment, now),
    },
  })
  if (count === 0) return null
  await tx.approvalReviewer.updateMany({ where: { requestId: request.id, active: true }, data: { active: false } })
  if (resolution.kind === 'reviewers') await addReviewers(tx, request.id, resolution.reviewers, now)
  const done = request.requiredApprovals > 1 ? `${request.requiredApprovals} approvals` : actor ? 'approved' : 'approved automatically'
  await tx.approvalEvent.createMany({
    data: [
      {
        type: 'ADVANCED' as const,
        ...(actor ? principalActor(actor) : {}),
        comment: `Stage ${request.stage} done (${done}); stage ${to}${stage.name ? ` (${stage.name})` : ''} decides now.`,
        details: { from: request.stage, to, stage: stage.name } as Prisma.InputJsonValue,
      },
      ...(escalated ? [{ type: 'ESCALATED' as const, comment: assignment.escalations.join('; ') }] : []),
      ...(resolution.kind === 'reviewers' ? delegationEvents(resolution.delegations) : []),
    ].map((e) => ({ ...e, requestId: request.id, at: now })),
  })
  const moved = await tx.approvalRequest.findUniqueOrThrow({ where: { id: request.id } })
  if (resolution.kind === 'auto' && resolution.delaySeconds === 0) {
    return passStage(tx, moved, null, `Approved automatically in stage ${to}.`, now)
  }
  return moved
}
