// The records store, and the execution of approved record mutations.
import { encodeGlobalID } from '@pothos/plugin-relay'
import type { Prisma } from '../db.js'
import type { ApprovalRequest } from '../generated/prisma/client.js'

type Tx = Prisma.TransactionClient

/** What a gated record mutation keeps in its request's params, to run it later exactly as asked. */
export interface RecordMutationParams {
  data: Prisma.InputJsonValue
  /** The owner's database id; undefined leaves the owner of an updated record as it is. */
  ownerId?: string | null
}

export function createRecord(tx: Tx, input: { module: string; data: Prisma.InputJsonValue; ownerId: string | null }) {
  return tx.record.create({ data: input })
}

export function updateRecord(tx: Tx, id: string, input: RecordMutationParams) {
  return tx.record.update({
    where: { id },
    data: { data: input.data, ...(input.ownerId !== undefined ? { ownerId: input.ownerId } : {}) },
  })
}

/**
 * Runs an approved create_record or update_record with the parameters it was requested with,
 * inside the transaction that approved it, so that it runs exactly once. Returns the event to
 * record: EXECUTED, or EXECUTION_FAILED with the reason (the request stays approved).
 */
export async function executeRecordMutation(
  tx: Tx,
  request: Pick<ApprovalRequest, 'id' | 'actionType' | 'module' | 'recordRefId' | 'params'>,
): Promise<{ type: 'EXECUTED' | 'EXECUTION_FAILED'; comment: string }> {
  const params = request.params as unknown as RecordMutationParams
  if (params.ownerId && !(await tx.user.findUnique({ where: { id: params.ownerId }, select: { id: true } }))) {
    return { type: 'EXECUTION_FAILED', comment: 'The owner named in the request no longer exists.' }
  }
  if (request.actionType === 'create_record') {
    const record = await createRecord(tx, { module: request.module!, data: params.data, ownerId: params.ownerId ?? null })
    await tx.approvalRequest.update({
      where: { id: request.id },
      data: { recordRefId: record.id, recordId: encodeGlobalID('Record', record.id) },
    })
    return { type: 'EXECUTED', comment: `Created record ${encodeGlobalID('Record', record.id)}.` }
  }
  if (!request.recordRefId || !(await tx.record.findUnique({ where: { id: request.recordRefId }, select: { id: true } }))) {
    return { type: 'EXECUTION_FAILED', comment: 'The record to update no longer exists.' }
  }
  await updateRecord(tx, request.recordRefId, params)
  return { type: 'EXECUTED', comment: 'Updated the record.' }
}
