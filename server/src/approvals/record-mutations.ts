// createRecord and updateRecord as the API offers them: run at once, or held as an approval
// request that runs them once approved. Who may do what is in record-access.ts: the caller must
// be able to read the record it updates; its owner (or an agent acting for them) and holders of
// record:manage change it directly (agents through the rules), anyone else only proposes a change,
// which a rule must gate (refused otherwise); and a record gets a new owner only from
// record:manage or its current owner.
import { encodeGlobalID } from '@pothos/plugin-relay'
import type { Viewer } from '../auth/viewer.js'
import type { Prisma, PrismaClient } from '../db.js'
import { userExists } from '../directory/directory.js'
import { ApiError, badInput, forbidden, notFound } from '../errors.js'
import type { ApprovalRequest, Record } from '../generated/prisma/client.js'
import { mayAssignOwner, mayChange, mayRead, recordScope } from './record-access.js'
import { privateModules } from './record-visibility.js'
import { createRecord, recordDataProblem, recordMutationTitle, updateRecord } from './records.js'
import { requestApproval, type RequestSettings } from './requests.js'

export interface RecordMutationResult {
  record: Record | null
  approvalRequest: ApprovalRequest | null
}

async function assertOwnerExists(prisma: PrismaClient, ownerId: string | null | undefined) {
  if (ownerId && !(await userExists(prisma, ownerId))) {
    throw badInput('No user with this id.', 'input.ownerId')
  }
}

function assertRecordData(data: unknown) {
  if (data === null || typeof data !== 'object' || Array.isArray(data)) throw badInput("A record's data must be a JSON object.", 'input.data')
  const problem = recordDataProblem(data)
  if (problem) throw new ApiError('BAD_USER_INPUT', `input.data${problem.pointer}: ${problem.message}`, { field: 'input.data', pointer: problem.pointer })
}

const reassignRefused = () => forbidden("Giving a record an owner needs record:manage or being its current owner.")
const proposalUngated = () =>
  forbidden(
    "Only the record's owner (or an agent acting for them) and holders of record:manage change it directly. Others propose changes that a rule sends to a reviewer (e.g. the record's owner), and no rule gates this one.",
  )

/**
 * The approval request a rule makes of a record mutation, if one gates it. Agents are always
 * asked; people only when they propose a change to a record they may not change directly (their
 * own changes run at once). The params hold the owner as a global ID, as the API shows it.
 */
async function gate(
  prisma: PrismaClient,
  viewer: Viewer,
  request: { actionType: 'create_record' | 'update_record'; module: string; recordId?: string; params: Prisma.InputJsonObject; summary: string },
  now: Date,
  limits: RequestSettings | undefined,
  proposal = false,
): Promise<RecordMutationResult | null> {
  if (viewer.kind !== 'agent' && !proposal) return null
  const outcome = await requestApproval(prisma, viewer, { resourceType: 'RECORD_MUTATION', ...request }, now, limits)
  if (!outcome.approvalRequired) return null
  const executed = outcome.request.recordRefId && outcome.request.status === 'APPROVED'
  return {
    approvalRequest: outcome.request,
    record: executed ? await prisma.record.findUnique({ where: { id: outcome.request.recordRefId! } }) : null,
  }
}

const globalOwner = (ownerId: string | null) => (ownerId ? encodeGlobalID('User', ownerId) : null)

export async function createRecordMutation(
  prisma: PrismaClient,
  viewer: Viewer,
  input: { module: string; data: Prisma.InputJsonValue; ownerId?: string | null },
  now: Date,
  limits?: RequestSettings,
): Promise<RecordMutationResult> {
  assertRecordData(input.data)
  await assertOwnerExists(prisma, input.ownerId)
  // by default a record belongs to the user who creates it, or for whom the agent creates it
  const ownerId = input.ownerId !== undefined ? input.ownerId : viewer.kind === 'user' ? viewer.id : viewer.ownerId
  const scope = recordScope(viewer)
  if (!mayAssignOwner(scope, undefined, ownerId)) throw reassignRefused()
  const params = { module: input.module, data: input.data, ownerId: globalOwner(ownerId) }
  const gated = await gate(prisma, viewer, { actionType: 'create_record', module: input.module, params, summary: recordMutationTitle('Create', input.module) }, now, limits)
  if (gated) return gated
  return { record: await createRecord(prisma, { module: input.module, data: input.data, ownerId }), approvalRequest: null }
}

export async function updateRecordMutation(
  prisma: PrismaClient,
  viewer: Viewer,
  id: string,
  input: { data: Prisma.InputJsonValue; ownerId?: string | null },
  now: Date,
  limits?: RequestSettings,
): Promise<RecordMutationResult> {
  assertRecordData(input.data)
  const [record, hidden] = await Promise.all([
    prisma.record.findUnique({ where: { id }, select: { module: true, ownerId: true } }),
    privateModules(prisma, limits?.modules),
  ])
  const scope = recordScope(viewer)
  // a record one may not read is answered as one that does not exist
  if (!record || !mayRead(scope, record, hidden)) throw notFound('Record')
  await assertOwnerExists(prisma, input.ownerId)
  const reassigns = input.ownerId !== undefined && input.ownerId !== record.ownerId
  if (reassigns && !mayAssignOwner(scope, record.ownerId, input.ownerId!)) throw reassignRefused()
  const direct = mayChange(scope, record)
  const recordId = encodeGlobalID('Record', id)
  const params = { recordId, data: input.data, ...(input.ownerId !== undefined ? { ownerId: globalOwner(input.ownerId) } : {}) }
  const gated = await gate(
    prisma,
    viewer,
    { actionType: 'update_record', module: record.module, recordId, params, summary: recordMutationTitle('Update', record.module) },
    now,
    limits,
    !direct,
  )
  if (gated) return gated
  if (!direct) throw proposalUngated()
  const updated = await prisma.$transaction((tx) => updateRecord(tx, id, { data: input.data, ownerId: input.ownerId }))
  if (!updated) throw notFound('Record')
  return { record: updated, approvalRequest: null }
}
