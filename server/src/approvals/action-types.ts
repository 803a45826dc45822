// Custom action types: what an admin adds to the built-in catalogue (catalogue.ts) so that any
// agent tool (an MCP tool, say) can be gated. Each is an AGENT_ACTION with a JSON Schema its
// params must satisfy; rules, requests and edits treat it as they treat the built-ins.
//
// A rule names its action type by key, so a type a rule uses may not be deleted. Both sides take
// the rule set's row lock first (bumpRuleSet): a delete and a createRule/updateRule naming the
// same type run one after the other, and the second sees what the first committed.
import { z } from 'zod'
import { Prisma, type PrismaClient } from '../db.js'
import { badInput, conflict, notFound } from '../errors.js'
import { compileParamsSchema, findBuiltIn, type JsonSchema } from './catalogue.js'
import { bumpRuleSet } from './rules.js'

export interface ActionTypeInput {
  key: string
  description: string
  paramsSchema?: unknown
}

/** The largest paramsSchema, as JSON bytes. */
export const MAX_SCHEMA_BYTES = 64 * 1024

const InputShape = z.object({
  key: z
    .string()
    .max(64, 'key must be at most 64 characters')
    .regex(/^[a-z][a-z0-9_]*$/, 'key must start with a lowercase letter and hold only lowercase letters, digits and underscores'),
  description: z.string().trim().min(1, 'description must not be empty').max(2000, 'description must be at most 2000 characters'),
  paramsSchema: z.custom<JsonSchema>(
    (v) => v !== null && typeof v === 'object' && !Array.isArray(v),
    'paramsSchema must be a JSON object: a JSON Schema (draft 2020-12)',
  ),
})

/** A custom action type's input, checked: the columns to store. BAD_USER_INPUT (with the field) if not valid. */
function validateInput(input: ActionTypeInput): { key: string; description: string; paramsSchema: JsonSchema } {
  const shape = InputShape.safeParse(input)
  if (!shape.success) {
    const issue = shape.error.issues[0]!
    throw badInput(issue.message, `input.${issue.path.join('.')}`)
  }
  const { key, description, paramsSchema } = shape.data
  if (findBuiltIn(key)) throw badInput(`${key} is a built-in action type: choose another key.`, 'input.key')
  if (Buffer.byteLength(JSON.stringify(paramsSchema)) > MAX_SCHEMA_BYTES) {
    throw badInput(`paramsSchema must be at most ${MAX_SCHEMA_BYTES} bytes as JSON.`, 'input.paramsSchema')
  }
  try {
    compileParamsSchema(paramsSchema)
  } catch (err) {
    const reason = err instanceof Error ? err.message : String(err)
    throw badInput(`paramsSchema is not a valid JSON Schema (draft 2020-12): ${reason.slice(0, 500)}`, 'input.paramsSchema')
  }
  if (paramsSchema.type !== 'object') {
    throw badInput('paramsSchema must describe an object ("type": "object"): params are always objects.', 'input.paramsSchema')
  }
  return { key, description, paramsSchema }
}

const isBuiltIn = (key: string, field: string) => {
  if (findBuiltIn(key)) throw badInput('Built-in action types cannot be changed.', field)
}

const prismaError = (err: unknown, code: string) => err instanceof Prisma.PrismaClientKnownRequestError && err.code === code

/** Adds a custom action type. CONFLICT when one with that key exists. */
export async function createActionType(prisma: PrismaClient, actorUserId: string, input: ActionTypeInput) {
  const data = validateInput(input)
  try {
    return await prisma.actionType.create({
      data: { ...data, paramsSchema: data.paramsSchema as Prisma.InputJsonObject, createdById: actorUserId, updatedById: actorUserId },
    })
  } catch (err) {
    if (prismaError(err, 'P2002')) throw conflict(`An action type with key ${data.key} already exists.`)
    throw err
  }
}

/**
 * Replaces a custom action type's description and schema; its key stays. Requests already made
 * keep their params; a later request, and an edit of a pending one, is checked against the new schema.
 */
export async function updateActionType(prisma: PrismaClient, actorUserId: string, key: string, input: ActionTypeInput) {
  isBuiltIn(key, 'key')
  if (input.key !== key) throw badInput('The key of an action type cannot be changed: create another one instead.', 'input.key')
  const data = validateInput(input)
  try {
    return await prisma.actionType.update({
      where: { key },
      data: { description: data.description, paramsSchema: data.paramsSchema as Prisma.InputJsonObject, updatedById: actorUserId },
    })
  } catch (err) {
    if (prismaError(err, 'P2025')) throw notFound('Action type')
    throw err
  }
}

/** Deletes a custom action type. CONFLICT while a rule (enabled or not) names it. */
export async function deleteActionType(prisma: PrismaClient, key: string): Promise<boolean> {
  isBuiltIn(key, 'key')
  return prisma.$transaction(async (tx) => {
    // first: a createRule or updateRule naming this type waits for this transaction, or this one for it
    await bumpRuleSet(tx)
    const rules = await tx.approvalRule.findMany({ where: { actionType: key }, select: { name: true }, orderBy: { name: 'asc' }, take: 6 })
    if (rules.length > 0) {
      const names = rules.slice(0, 5).map((r) => `"${r.name}"`).join(', ') + (rules.length > 5 ? ' and more' : '')
      throw conflict(`Action type ${key} is used by the rule${rules.length > 1 ? 's' : ''} ${names}: delete them or change their action type first.`)
    }
    const { count } = await tx.actionType.deleteMany({ where: { key } })
    if (count === 0) throw notFound('Action type')
    return true
  })
}
