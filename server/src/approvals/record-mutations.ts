// createRecord and updateRecord as the API offers them: run at once, or, when an agent asks and
// a RECORD_MUTATION rule matches, held as an approval request that runs them once approved.
import { encodeGlobalID } from '@pothos/plugin-relay'
import type { Viewer } from '../auth/viewer.js'
import type { Prisma, PrismaClient } from '../db.js'
import { badInput, notFound } from '../errors.js'
import type { ApprovalRequest, Record } from '../generated/prisma/client.js'
import { createRecord, updateRecord, type RecordMutationParams } from './records.js'
import { requestApproval } from './requests.js'

export interface RecordMutationResult {
  record: Record | null
  approvalRequest: ApprovalRequest | null
}

async function assertOwner(prisma: PrismaClient, ownerId: string | null | undefined) {
  if (ownerId && !(await prisma.user.findUnique({ where: { id: ownerId }, select: { id: true } }))) {
    throw badInput('No user with this id.', 'input.ownerId')
  }
}

/** Only agents are gated: people change records directly. */
async function gate(
  prisma: PrismaClient,
  viewer: Viewer,
  request: { actionType: 'create_record' | 'update_record'; module: string; recordId?: string; params: RecordMutationParams; summary: string },
  now: Date,
): Promise<RecordMutationResult | null> {
  if (viewer.kind !== 'agent') return null
  const outcome = await requestApproval(prisma, viewer, { resourceType: 'RECORD_MUTATION', ...request }, now)
  if (!outcome.approvalRequired) return null
  const executed = outcome.request.recordRefId && outcome.request.status === 'APPROVED'
  return {
    approvalRequest: outcome.request,
    record: executed ? await prisma.record.findUnique({ where: { id: outcome.request.recordRefId! } }) : null,
  }
}

export async function createRecordMutation(
  prisma: PrismaClient,
  viewer: Viewer,
  input: { module: string; data: Prisma.InputJsonValue; ownerId?: string | null },
  now: Date,
): Promise<RecordMutationResult> {
  await assertOwner(prisma, input.ownerId)
  const params: RecordMutationParams = { data: input.data, ownerId: input.ownerId ?? null }
  const gated = await gate(prisma, viewer, { actionType: 'create_record', module: input.module, params, summary: `Create a ${input.module} record` }, now)
  if (gated) return gated
  const ownerId = input.ownerId ?? (viewer.kind === 'user' ? viewer.id : null)
  return { record: await createRecord(prisma, { module: input.module, data: input.data, ownerId }), approvalRequest: null }
}

export async function updateRecordMutation(
  prisma: PrismaClient,
  viewer: Viewer,
  id: string,
  input: { data: Prisma.InputJsonValue; ownerId?: string | null },
  now: Date,
): Promise<RecordMutationResult> {
  const record = await prisma.record.findUnique({ where: { id }, select: { module: true } })
  if (!record) throw notFound('Record')
  await assertOwner(prisma, input.ownerId)
  const params: RecordMutationParams = { data: input.data, ...(input.ownerId !== undefined ? { ownerId: input.ownerId } : {}) }
  const gated = await gate(
    prisma,
    viewer,
    { actionType: 'update_record', module: record.module, recordId: encodeGlobalID('Record', id), params, summary: `Update a ${record.module} record` },
    now,
  )
  if (gated) return gated
  return { record: await updateRecord(prisma, id, params), approvalRequest: null }
}
