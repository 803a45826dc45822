// The directory: users with their roles, managers and availability; agents; API tokens.
// Every function validates what it is given against the database and changes nothing when the
// input is bad (one transaction per change).
import { principalColumn, type Viewer } from '../auth/viewer.js'
import { AGENT_PERMISSIONS, OWNER_ROLE_KEY } from '../auth/permissions.js'
import { generateToken, hashToken } from '../auth/tokens.js'
import { Prisma, type PrismaClient } from '../db.js'
import { badInput, forbidden, notFound } from '../errors.js'
import { changeAvailability, type AvailabilityChange } from '../approvals/delegation.js'

type Tx = Prisma.TransactionClient

/** The include/select that Pothos computed for the caller's selection, spread into the final write. */
export type UserQuery = { include?: Prisma.UserInclude; select?: Prisma.UserSelect }
export type AgentQuery = { include?: Prisma.AgentInclude; select?: Prisma.AgentSelect }

export interface CreateUserInput {
  email: string
  name: string
  roleKeys: string[]
  managerId?: string | null
}

export interface UpdateUserInput {
  name?: string | null
  roleKeys?: string[] | null
  /** null removes the manager; undefined leaves it. */
  managerId?: string | null
  available?: boolean | null
  /** Who reviews in the user's place while away; null removes them. */
  delegateId?: string | null
  /** When an away user becomes available again by itself. */
  awayUntil?: Date | null
  notifyByEmail?: boolean | null
  /** The user's Slack member id; null removes it, undefined leaves it. */
  slackUserId?: string | null
}

/** A user after a change, and the pending requests that moved to their delegate (to notify once committed). */
export interface UserChange<T> {
  user: T
  moved: string[]
}

/** Serialises changes to the manager graph so that two concurrent updates cannot close a cycle. */
const MANAGER_GRAPH_LOCK = 7_260_013_372

async function rolesByKey(tx: Tx, keys: string[]) {
  const unique = [...new Set(keys)]
  const roles = await tx.role.findMany({ where: { key: { in: unique } }, select: { id: true, key: true } })
  const missing = unique.filter((k) => !roles.some((r) => r.key === k))
  if (missing.length) throw badInput(`Unknown role key: ${missing.join(', ')}.`, 'input.roleKeys')
  return roles
}

function assertMayChangeOwnerRole(actor: Viewer, before: string[], after: string[]) {
  const changes = before.includes(OWNER_ROLE_KEY) !== after.includes(OWNER_ROLE_KEY)
  if (changes && !(actor.kind === 'user' && actor.roleKeys.includes(OWNER_ROLE_KEY))) {
    throw forbidden('Only an owner may grant or remove the owner role.')
  }
}

async function assertUserExists(tx: Tx, id: string, field: string) {
  const found = await tx.user.findUnique({ where: { id }, select: { id: true } })
  if (!found) throw badInput(`No user with id ${field.endsWith('managerId') ? 'given as manager' : 'given'}.`, field)
}

function isUniqueViolation(err: unknown): boolean {
  return err instanceof Prisma.PrismaClientKnownRequestError && err.code === 'P2002'
}

export async function createUser(prisma: PrismaClient, actor: Viewer, input: CreateUserInput, query: UserQuery = {}) {
  const email = input.email.trim().toLowerCase()
  try {
    return await prisma.$transaction(async (tx) => {
      const roles = await rolesByKey(tx, input.roleKeys)
      assertMayChangeOwnerRole(actor, [], input.roleKeys)
      if (input.managerId) await assertUserExists(tx, input.managerId, 'input.managerId')
      if (await tx.user.findUnique({ where: { email }, select: { id: true } })) {
        throw badInput(`A user with email ${email} already exists.`, 'input.email')
      }
      return tx.user.create({
        ...query,
        data: {
          email,
          name: input.name.trim(),
          managerId: input.managerId ?? null,
          roles: { connect: roles.map((r) => ({ id: r.id })) },
        },
      })
    })
  } catch (err) {
    // two concurrent creations with one email: the unique index decides
    if (isUniqueViolation(err)) throw badInput(`A user with email ${email} already exists.`, 'input.email')
    throw err
  }
}

const slackIdTaken = () => badInput('This Slack member ID is linked to another user already.', 'input.slackUserId')

export async function updateUser(prisma: PrismaClient, actor: Viewer, id: string, input: UpdateUserInput, now: Date, query: UserQuery = {}) {
  try {
    return await updateUserInTransaction(prisma, actor, id, input, now, query)
  } catch (err) {
    // two users given one Slack id at once: the unique index decides
    if (isUniqueViolation(err) && input.slackUserId) throw slackIdTaken()
    throw err
  }
}

async function updateUserInTransaction(prisma: PrismaClient, actor: Viewer, id: string, input: UpdateUserInput, now: Date, query: UserQuery) {
  return prisma.$transaction(async (tx) => {
    const user = await tx.user.findUnique({ where: { id }, select: { id: true, roles: { select: { key: true } } } })
    if (!user) throw notFound('User')
    // an owner's manager, roles and availability decide who reviews the owner's requests
    if (user.roles.some((r) => r.key === OWNER_ROLE_KEY) && !(actor.kind === 'user' && actor.roleKeys.includes(OWNER_ROLE_KEY))) {
      throw forbidden('Only an owner may change an owner.')
    }
    const data: Prisma.UserUpdateInput = {}
    if (input.name != null) data.name = input.name.trim()
    if (input.notifyByEmail != null) data.notifyByEmail = input.notifyByEmail
    if (input.slackUserId !== undefined) {
      const taken = input.slackUserId && (await tx.user.findFirst({ where: { slackUserId: input.slackUserId, id: { not: id } }, select: { id: true } }))
      if (taken) throw slackIdTaken()
      data.slackUserId = input.slackUserId
    }
    if (input.roleKeys != null) {
      const roles = await rolesByKey(tx, input.roleKeys)
      assertMayChangeOwnerRole(actor, user.roles.map((r) => r.key), input.roleKeys)
      data.roles = { set: roles.map((r) => ({ id: r.id })) }
    }
    if (input.managerId !== undefined) {
      if (input.managerId === null) data.manager = { disconnect: true }
      else {
        await tx.$executeRaw`SELECT pg_advisory_xact_lock(${MANAGER_GRAPH_LOCK}::bigint)`
        await assertUserExists(tx, input.managerId, 'input.managerId')
        if (await managesInChain(tx, input.managerId, id)) {
          throw badInput('This manager would create a cycle: the user already manages them, directly or indirectly.', 'input.managerId')
        }
        data.manager = { connect: { id: input.managerId } }
      }
    }
    await tx.user.update({ where: { id }, data })
    if (input.roleKeys != null) await assertAnOwnerRemains(tx)
    const availability: AvailabilityChange = { available: input.available, awayUntil: input.awayUntil, delegateId: input.delegateId }
    const changes = Object.values(availability).some((v) => v !== undefined)
    const moved = changes ? await changeAvailability(tx, id, availability, now, 'input.') : []
    return { user: await tx.user.findUniqueOrThrow({ ...query, where: { id } }), moved }
  })
}

/** Whether `userId` is `managerId` itself or appears above it in the management chain. */
async function managesInChain(tx: Tx, managerId: string, userId: string): Promise<boolean> {
  const rows = await tx.$queryRaw<{ found: boolean }[]>`
    WITH RECURSIVE chain(id, "managerId") AS (
      SELECT id, "managerId" FROM "User" WHERE id = ${managerId}::uuid
      UNION
      SELECT u.id, u."managerId" FROM "User" u JOIN chain c ON u.id = c."managerId"
    )
    SELECT EXISTS (SELECT 1 FROM chain WHERE id = ${userId}::uuid) AS found`
  return rows[0]?.found ?? false
}

async function assertAnOwnerRemains(tx: Tx) {
  const owners = await tx.user.count({ where: { roles: { some: { key: OWNER_ROLE_KEY } } } })
  if (owners === 0) throw badInput('At least one user must keep the owner role.', 'input.roleKeys')
}

/** A user's own notification settings (setMyNotifications). */
export async function setNotifications(prisma: PrismaClient, userId: string, settings: { notifyByEmail: boolean }, query: UserQuery = {}) {
  return prisma.user.update({ ...query, where: { id: userId }, data: { notifyByEmail: settings.notifyByEmail } })
}

/** A user's own change of availability (setMyAvailability); see changeAvailability. */
export async function setAvailability(prisma: PrismaClient, userId: string, change: AvailabilityChange, now: Date, query: UserQuery = {}) {
  return prisma.$transaction(async (tx) => {
    const moved = await changeAvailability(tx, userId, change, now)
    return { user: await tx.user.findUniqueOrThrow({ ...query, where: { id: userId } }), moved }
  })
}

export interface CreateAgentInput {
  name: string
  ownerId?: string | null
  description?: string | null
  actsForUserIds?: string[] | null
}

export interface UpdateAgentInput {
  name?: string | null
  description?: string | null
  enabled?: boolean | null
  /** Replaces the list; undefined or null leaves it. */
  actsForUserIds?: string[] | null
}

async function assertUsersExist(tx: Tx, ids: string[], field: string) {
  const unique = [...new Set(ids)]
  const found = await tx.user.count({ where: { id: { in: unique } } })
  if (found !== unique.length) throw badInput('Some of these users do not exist.', field)
  return unique
}

/** Creates an agent; without an owner given, the creating user owns it. */
export async function createAgent(prisma: PrismaClient, actor: Viewer, input: CreateAgentInput, query: AgentQuery = {}) {
  return prisma.$transaction(async (tx) => {
    if (input.ownerId) await assertUserExists(tx, input.ownerId, 'input.ownerId')
    const actsFor = input.actsForUserIds ? await assertUsersExist(tx, input.actsForUserIds, 'input.actsForUserIds') : []
    const ownerId = input.ownerId ?? (actor.kind === 'user' ? actor.id : null)
    await assertMayActFor(tx, actor, [...actsFor, ...(ownerId ? [ownerId] : [])])
    return tx.agent.create({
      ...query,
      data: {
        name: input.name.trim(),
        description: input.description?.trim() || null,
        ownerId,
        actsFor: { connect: actsFor.map((id) => ({ id })) },
      },
    })
  })
}

/** Changes an agent. Disabling it stops its tokens at once (they are checked on every call). */
export async function updateAgent(prisma: PrismaClient, actor: Viewer, id: string, input: UpdateAgentInput, query: AgentQuery = {}) {
  return prisma.$transaction(async (tx) => {
    const agent = await tx.agent.findUnique({ where: { id }, select: { ownerId: true } })
    if (!agent) throw notFound('Agent')
    if (!actor.permissions.has('directory:manage')) {
      // an owner may stop (and restart) a misbehaving agent of theirs at once, and nothing else
      const onlySwitch = input.enabled != null && input.name == null && input.description === undefined && input.actsForUserIds == null
      if (!(actor.kind === 'user' && agent.ownerId === actor.id && onlySwitch)) {
        throw forbidden("Not allowed: directory managers change agents; an agent's owner may only disable or enable it.")
      }
    }
    const data: Prisma.AgentUpdateInput = {}
    if (input.name != null) data.name = input.name.trim()
    if (input.description !== undefined) data.description = input.description?.trim() || null
    if (input.enabled != null) data.enabled = input.enabled
    if (input.actsForUserIds != null) {
      const actsFor = await assertUsersExist(tx, input.actsForUserIds, 'input.actsForUserIds')
      await assertMayActFor(tx, actor, actsFor)
      data.actsFor = { set: actsFor.map((userId) => ({ id: userId })) }
    }
    return tx.agent.update({ ...query, where: { id }, data })
  })
}

export type PrincipalRef = { kind: 'user' | 'agent'; id: string }

/** Whether a user with this database id exists. */
export async function userExists(prisma: Prisma.TransactionClient | PrismaClient, id: string): Promise<boolean> {
  return (await prisma.user.findUnique({ where: { id }, select: { id: true } })) !== null
}

const STANDING = { roles: { select: { key: true, permissions: true } } } as const
type Standing = { permissions: Set<string>; owner: boolean }
const standingOfRoles = (users: { roles: { key: string; permissions: string[] }[] }[], base: readonly string[] = []): Standing => ({
  permissions: new Set([...base, ...users.flatMap((u) => u.roles.flatMap((r) => r.permissions))]),
  owner: users.some((u) => u.roles.some((r) => r.key === OWNER_ROLE_KEY)),
})

/**
 * A principal's standing: its permissions and whether it holds the owner role; null when it
 * does not exist. An agent stands for the people it acts for (its owner and its actsFor users),
 * since whoever holds its token can ask in their name.
 */
async function standingOf(tx: Tx | PrismaClient, principal: PrincipalRef): Promise<Standing | null> {
  if (principal.kind === 'agent') {
    const agent = await tx.agent.findUnique({ where: { id: principal.id }, select: { owner: { select: STANDING }, actsFor: { select: STANDING } } })
    return agent && standingOfRoles([...(agent.owner ? [agent.owner] : []), ...agent.actsFor], AGENT_PERMISSIONS)
  }
  const user = await tx.user.findUnique({ where: { id: principal.id }, select: STANDING })
  return user && standingOfRoles([user])
}

/** Refuses to let an agent act for users who stand above the actor (an admin cannot run an agent as the owner). */
async function assertMayActFor(tx: Tx, actor: Viewer, userIds: string[]) {
  if (userIds.length === 0) return
  const users = await tx.user.findMany({ where: { id: { in: userIds } }, select: STANDING })
  if (!mayActOnTokensOf(actor, standingOfRoles(users))) {
    throw forbidden('Not allowed: an agent may act only for users who hold no more permissions than you (and for owners only if you are one).')
  }
}

/**
 * Whether `actor` may hold credentials of `target`: a token of a principal is that principal's
 * power, so nobody may mint or revoke one for a principal with more permissions than their
 * own, and an owner's tokens are an owner's business only.
 */
function mayActOnTokensOf(actor: Viewer, target: Standing): boolean {
  if (target.owner && !(actor.kind === 'user' && actor.roleKeys.includes(OWNER_ROLE_KEY))) return false
  return [...target.permissions].every((p) => actor.permissions.has(p as never))
}

/** Issues a token for a user or agent. The secret is returned here, once; only its hash is kept. */
export async function createApiToken(prisma: PrismaClient, actor: Viewer, principal: PrincipalRef, name: string) {
  const target = await standingOf(prisma, principal)
  if (!target) throw badInput(`No ${principal.kind} with this id.`, 'principalId')
  if (!mayActOnTokensOf(actor, target)) {
    throw forbidden("Not allowed: a token carries its principal's permissions; only an owner may create an owner's token, and nobody one for a principal with more permissions than their own.")
  }
  const token = generateToken()
  const apiToken = await prisma.apiToken.create({
    data: {
      name: name.trim(),
      tokenHash: hashToken(token),
      ...principalColumn(principal),
    },
  })
  return { token, apiToken }
}

/**
 * Creates the first owner with the operator's bootstrap token when the directory is empty.
 * Idempotent, and safe when several instances start at once: the check and the creation run
 * under one transaction-scoped advisory lock. Returns whether it created the owner.
 */
export async function bootstrapOwner(
  prisma: PrismaClient,
  bootstrap: { token: string; email: string; name: string },
): Promise<boolean> {
  return prisma.$transaction(async (tx) => {
    await tx.$executeRaw`SELECT pg_advisory_xact_lock(${MANAGER_GRAPH_LOCK + 1}::bigint)`
    if ((await tx.user.count()) > 0) return false
    const owner = await tx.role.findUniqueOrThrow({ where: { key: OWNER_ROLE_KEY }, select: { id: true } })
    await tx.user.create({
      data: {
        email: bootstrap.email.toLowerCase(),
        name: bootstrap.name,
        roles: { connect: { id: owner.id } },
        apiTokens: { create: { name: 'bootstrap', tokenHash: hashToken(bootstrap.token) } },
      },
    })
    return true
  })
}

/**
 * Revokes a token: it stops authenticating at once, and subscriptions opened with it stop
 * delivering. Directory managers may revoke any token; a user their own.
 */
export async function revokeApiToken(prisma: PrismaClient, actor: Viewer, tokenId: string, now: Date) {
  const token = await prisma.apiToken.findUnique({ where: { id: tokenId }, select: { userId: true, agentId: true } })
  const own = actor.kind === 'user' && token?.userId === actor.id
  if (!token || (!own && !actor.permissions.has('directory:manage'))) throw notFound('API token')
  if (!own) {
    const target = await standingOf(prisma, token.userId ? { kind: 'user', id: token.userId } : { kind: 'agent', id: token.agentId! })
    if (target && !mayActOnTokensOf(actor, target)) {
      throw forbidden("Not allowed: only an owner may revoke an owner's tokens, and nobody those of a principal with more permissions than their own.")
    }
  }
  return prisma.apiToken.update({ where: { id: tokenId }, data: { revokedAt: now } })
}
