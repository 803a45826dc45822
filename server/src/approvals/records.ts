// The records store, and the execution of approved record mutations.
import { decodeGlobalID } from '@pothos/plugin-relay'
import type { Prisma } from '../db.js'
import type { ApprovalRequest } from '../generated/prisma/client.js'

type Tx = Prisma.TransactionClient

const isJsonObject = (value: unknown): value is { [key: string]: unknown } =>
  typeof value === 'object' && value !== null && !Array.isArray(value)

/** What a gated record mutation keeps in its request's params, to run it later exactly as asked. */
export interface RecordMutationParams {
  data: Prisma.InputJsonValue
  /** The owner's database id (params hold its global ID); undefined leaves the owner of an updated record as it is. */
  ownerId?: string | null
}

/**
 * What a record mutation is called in the inbox: "Create a contact", "Update an account", from the
 * module's name ("accounts", "crm_deals", "Opportunities"). Plural names are made singular by the
 * common English endings; a name that does not look like a plural is used as it is.
 */
export function recordMutationTitle(verb: 'Create' | 'Update', module: string): string {
  const words = module.trim().replace(/[_\-.]+/g, ' ').toLowerCase().split(/\s+/)
  const last = words.pop() ?? 'record'
  const singular = /[^aeiou]ies$/.test(last)
    ? last.slice(0, -3) + 'y'
    : /(ss|sh|ch|x|z)es$/.test(last)
      ? last.slice(0, -2)
      : /[^su]s$/.test(last)
        ? last.slice(0, -1)
        : last
  const noun = [...words, singular].join(' ')
  // the article goes by the sound, which the first letter gives well enough for module names
  const article = /^[aeiou]/.test(noun) && !/^(uni|use|usu|one)/.test(noun) ? 'an' : 'a'
  return `${verb} ${article} ${noun}`
}

export function createRecord(tx: Tx, input: { module: string; data: Prisma.InputJsonValue; ownerId: string | null }) {
  return tx.record.create({ data: input })
}

/**
 * Keys a record's data may not have, at any depth: JavaScript gives them meaning on every object
 * (`obj.__proto__ = x` sets the prototype, `obj.hasOwnProperty(k)` is a call), so code that
 * handles the data as plain objects (merge patch libraries, `in` checks) would misread them.
 */
const RESERVED_KEYS = new Set(['__proto__', 'constructor', 'prototype', 'hasOwnProperty'])

/** JSON Pointer (RFC 6901) escaping of one key. */
const pointerPart = (key: string) => key.replace(/~/g, '~0').replace(/\//g, '~1')

/**
 * The first reserved key (RESERVED_KEYS) in a record's data, as a JSON Pointer from the data and a
 * message; null when there is none. Iterative, so that any depth is safe to inspect.
 */
export function recordDataProblem(data: unknown): { pointer: string; message: string } | null {
  const stack: [unknown, string][] = [[data, '']]
  while (stack.length) {
    const [node, at] = stack.pop()!
    if (node === null || typeof node !== 'object') continue
    const entries: [string, unknown][] = Array.isArray(node) ? node.map((v, i) => [String(i), v]) : Object.entries(node)
    for (const [key, value] of entries) {
      const pointer = `${at}/${pointerPart(key)}`
      if (!Array.isArray(node) && RESERVED_KEYS.has(key)) {
        return { pointer, message: `"${key}" may not be a field of a record's data (nor ${[...RESERVED_KEYS].filter((k) => k !== key).join(', ')}).` }
      }
      stack.push([value, pointer])
    }
  }
  return null
}

/** Sets an own property, whatever its name (assignment to `__proto__` would set the prototype). */
function defineField(target: Record<string, unknown>, key: string, value: unknown) {
  Object.defineProperty(target, key, { value, enumerable: true, writable: true, configurable: true })
}

/**
 * A record's data with a change applied as a JSON Merge Patch (RFC 7396): the fields the change
 * names take its values (objects merge field by field, null removes), and the others stay. Only
 * own fields count, whatever their names, and neither argument is modified.
 */
export function mergeData(current: unknown, change: unknown): Prisma.InputJsonValue {
  return mergePatch(current, change) as Prisma.InputJsonValue
}

function mergePatch(target: unknown, patch: unknown): unknown {
  if (!isJsonObject(patch)) return patch
  const result: Record<string, unknown> = {}
  if (isJsonObject(target)) for (const [key, value] of Object.entries(target)) defineField(result, key, value)
  for (const [key, value] of Object.entries(patch)) {
    if (value === null) delete result[key]
    else defineField(result, key, mergePatch(Object.hasOwn(result, key) ? result[key] : undefined, value))
  }
  return result
}

/**
 * Applies `input.data` to a record as a JSON Merge Patch (fields it leaves out stay), and its
 * owner when given. The row is locked first, so that of concurrent changes each applies to what
 * the one before it left. Null when the record no longer exists.
 */
export async function updateRecord(tx: Tx, id: string, input: RecordMutationParams) {
  const [row] = await tx.$queryRaw<{ data: Prisma.JsonValue }[]>`SELECT "data" FROM "Record" WHERE "id" = ${id}::uuid FOR UPDATE`
  if (!row) return null
  return tx.record.update({
    where: { id },
    data: { data: mergeData(row.data, input.data), ...(input.ownerId !== undefined ? { ownerId: input.ownerId } : {}) },
  })
}

/** How one field of a record changes, as a request to update it proposes. */
export interface RecordFieldChange {
  field: string
  current: Prisma.JsonValue | null
  proposed: Prisma.JsonValue | null
  change: 'ADDED' | 'CHANGED' | 'REMOVED' | 'UNCHANGED'
}

/** The fields a change names, each with the record's current value and the value it would have after it. */
export function recordFieldChanges(current: unknown, change: unknown): RecordFieldChange[] {
  if (change === null || typeof change !== 'object' || Array.isArray(change)) return []
  const before = (current !== null && typeof current === 'object' && !Array.isArray(current) ? current : {}) as Record<string, Prisma.JsonValue>
  const after = mergeData(before, change) as Record<string, Prisma.JsonValue>
  return Object.keys(change).map((field) => {
    const [had, has] = [Object.hasOwn(before, field), Object.hasOwn(after, field)]
    const [was, will] = [had ? before[field]! : null, has ? after[field]! : null]
    const kind = !had && !has ? 'UNCHANGED' : !had ? 'ADDED' : !has ? 'REMOVED' : JSON.stringify(was) === JSON.stringify(will) ? 'UNCHANGED' : 'CHANGED'
    return { field, current: was, proposed: will, change: kind }
  })
}

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i

/**
 * The database id of an owner as params hold it: a User's global ID, as the API takes it, or a
 * bare uuid (rows written before params held global IDs); '' when it is neither.
 */
function userId(value: unknown): string {
  if (typeof value !== 'string') return ''
  if (UUID.test(value)) return value
  try {
    const decoded = decodeGlobalID(value)
    return decoded.typename === 'User' && UUID.test(decoded.id) ? decoded.id : ''
  } catch {
    return ''
  }
}

type Execution = { type: 'EXECUTED' | 'EXECUTION_FAILED'; comment: string }
type MutationRequest = Pick<ApprovalRequest, 'id' | 'actionType' | 'module' | 'recordRefId' | 'params'>

const failed = (comment: string): Execution => ({ type: 'EXECUTION_FAILED', comment })

/**
 * The stored params of a record mutation, if they have the shape it needs: `data` a JSON object,
 * `ownerId` (when present) a user's uuid or null; other keys are ignored. Rows written before
 * the API validated its input may not fit: then the reason, as a string.
 */
export function readRecordMutationParams(request: Pick<ApprovalRequest, 'actionType' | 'module' | 'params'>): RecordMutationParams | string {
  const { actionType, params } = request
  if (actionType !== 'create_record' && actionType !== 'update_record') return `"${actionType}" is not a record mutation.`
  if (!isJsonObject(params)) return 'The stored parameters are not a JSON object.'
  if (!isJsonObject(params.data)) return 'The stored parameters have no data to write: params.data must be a JSON object.'
  const ownerId = params.ownerId === undefined || params.ownerId === null ? params.ownerId : userId(params.ownerId)
  if (ownerId === '') return "The stored parameters' ownerId is not a user: params.ownerId must be a user's ID or null."
  if (actionType === 'create_record' && !request.module?.trim()) return 'The request names no module to create the record in.'
  return { data: params.data as Prisma.InputJsonObject, ...(ownerId !== undefined ? { ownerId } : {}) }
}

/** The database's own words for a failed statement, without Prisma's invocation preamble. */
function databaseReason(err: unknown): string {
  const cause = (err as { meta?: { driverAdapterError?: { cause?: { originalMessage?: unknown } } } })?.meta?.driverAdapterError?.cause
  if (typeof cause?.originalMessage === 'string' && cause.originalMessage) return cause.originalMessage
  const message = err instanceof Error ? err.message : String(err)
  const lines = message.split('\n').map((l) => l.trim()).filter(Boolean)
  return lines.at(-1) ?? 'unknown error'
}

async function run(tx: Tx, request: MutationRequest, params: RecordMutationParams): Promise<Execution> {
  if (params.ownerId && !(await tx.user.findUnique({ where: { id: params.ownerId }, select: { id: true } }))) {
    return failed('The owner named in the request no longer exists.')
  }
  if (request.actionType === 'create_record') {
    const record = await createRecord(tx, { module: request.module!, data: params.data, ownerId: params.ownerId ?? null })
    // the request names the record it made (its recordId, as the API shows it, follows from this)
    await tx.approvalRequest.update({ where: { id: request.id }, data: { recordRefId: record.id } })
    return { type: 'EXECUTED', comment: 'Created the record.' }
  }
  if (!request.recordRefId || !(await updateRecord(tx, request.recordRefId, params))) return failed('The record to update no longer exists.')
  return { type: 'EXECUTED', comment: 'Updated the record.' }
}

/**
 * Runs an approved create_record or update_record with the parameters it was requested with,
 * inside the transaction that approved it, so that it runs exactly once. Returns the event to
 * record: EXECUTED, or EXECUTION_FAILED with the reason (the request stays approved). Nothing
 * about the stored request makes it throw: params of the wrong shape are refused before any
 * write, and the writes run under a savepoint, so that a statement the database refuses undoes
 * only them and the approving transaction goes on. (It still throws when the savepoint itself
 * cannot be taken or rolled back: then the transaction is lost anyway.)
 */
export async function executeRecordMutation(tx: Tx, request: MutationRequest): Promise<Execution> {
  const params = readRecordMutationParams(request)
  if (typeof params === 'string') return failed(params)
  await tx.$executeRawUnsafe('SAVEPOINT record_mutation')
  let outcome: Execution
  try {
    outcome = await run(tx, request, params)
  } catch (err) {
    await tx.$executeRawUnsafe('ROLLBACK TO SAVEPOINT record_mutation')
    outcome = failed(`The change could not be made: ${databaseReason(err)}`)
  }
  await tx.$executeRawUnsafe('RELEASE SAVEPOINT record_mutation')
  return outcome
}
