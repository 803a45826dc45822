import type { PrismaClient } from '../db.js'
import { AGENT_PERMISSIONS, type Permission } from './permissions.js'
import { hashToken } from './tokens.js'

/** The column pair a user or an agent fills wherever either may stand (a reviewer, a token's holder). */
export const principalColumn = (principal: { kind: 'user' | 'agent'; id: string }): { userId: string } | { agentId: string } =>
  principal.kind === 'user' ? { userId: principal.id } : { agentId: principal.id }

/** A person as a request's conditions and routing see them. */
export interface Person {
  id: string
  email: string
  roleKeys: readonly string[]
}

/**
 * The caller's name and the people it may act for (a user: itself; an agent: its owner and
 * those a directory manager allowed), read with the token so that asking for approval needs no
 * query of its own. Absent on a viewer made by hand: then they are read when needed.
 */
export interface Parties {
  name: string
  people: readonly Person[]
}

/** Who is calling: a user or an agent, with the permissions their roles grant. */
export type Viewer =
  | { kind: 'user'; id: string; tokenId: string; permissions: ReadonlySet<Permission>; roleKeys: readonly string[]; parties?: Parties }
  | {
      kind: 'agent'
      id: string
      tokenId: string
      permissions: ReadonlySet<Permission>
      ownerId: string | null
      /** The users the agent may act for: its owner and those a directory manager allowed. */
      actsForUserIds: readonly string[]
      /** Whether one of those users holds record:manage, which the agent then exercises for them. */
      actsForRecordManager: boolean
      parties?: Parties
    }

interface TokenRow {
  id: string
  revokedAt: Date | null
  lastUsedAt: Date | null
  userId: string | null
  roleKeys: string[]
  permissions: string[]
  agentId: string | null
  agentEnabled: boolean | null
  agentOwnerId: string | null
  actsForIds: string[]
  actsForRecordManager: boolean
  name: string | null
  people: Person[] | string
}

const RECORD_MANAGE: Permission = 'record:manage'

/** Skip the lastUsedAt write when the token was used this recently: one write per token a minute, not per request. */
const LAST_USED_RESOLUTION_MS = 60_000

/** A token's viewer as stored, with when the token was last used (for the lastUsedAt write). */
export interface StoredViewer {
  viewer: Viewer
  lastUsedAt: Date | null
}

/**
 * The viewer a token (by its hash) stands for, or null when the token is unknown, revoked, or
 * belongs to a disabled agent. One round trip: the token, its user's roles, or its agent with the
 * people it acts for (every request that misses the cache pays for this, so it is one statement
 * rather than a query per relation).
 */
export async function readViewer(prisma: PrismaClient, tokenHash: string): Promise<StoredViewer | null> {
  const [row] = await prisma.$queryRaw<TokenRow[]>`
    SELECT t."id"::text AS "id", t."revokedAt", t."lastUsedAt", t."userId"::text AS "userId",
      COALESCE((SELECT array_agg(r."key" ORDER BY r."key") FROM "Role" r JOIN "_RoleToUser" ru ON ru."A" = r."id"
                WHERE ru."B" = t."userId"), '{}') AS "roleKeys",
      COALESCE((SELECT array_agg(DISTINCT p.permission) FROM "Role" r JOIN "_RoleToUser" ru ON ru."A" = r."id",
                unnest(r."permissions") AS p(permission) WHERE ru."B" = t."userId"), '{}') AS "permissions",
      a."id"::text AS "agentId", a."enabled" AS "agentEnabled", a."ownerId"::text AS "agentOwnerId",
      COALESCE((SELECT array_agg(af."B"::text ORDER BY af."B") FROM "_AgentActsFor" af WHERE af."A" = a."id"), '{}') AS "actsForIds",
      EXISTS (SELECT 1 FROM "_RoleToUser" ru JOIN "Role" r ON r."id" = ru."A"
              WHERE ${RECORD_MANAGE} = ANY(r."permissions")
                AND (ru."B" = a."ownerId" OR ru."B" IN (SELECT af."B" FROM "_AgentActsFor" af WHERE af."A" = a."id"))) AS "actsForRecordManager",
      COALESCE(u."name", a."name") AS "name",
      COALESCE((SELECT json_agg(json_build_object('id', p."id", 'email', p."email", 'roleKeys',
                  COALESCE((SELECT json_agg(r."key" ORDER BY r."key") FROM "Role" r JOIN "_RoleToUser" ru ON ru."A" = r."id" WHERE ru."B" = p."id"), '[]'::json)))
                FROM "User" p
                WHERE p."id" = t."userId" OR p."id" = a."ownerId" OR p."id" IN (SELECT af."B" FROM "_AgentActsFor" af WHERE af."A" = a."id")), '[]'::json) AS "people"
    FROM "ApiToken" t LEFT JOIN "Agent" a ON a."id" = t."agentId" LEFT JOIN "User" u ON u."id" = t."userId"
    WHERE t."tokenHash" = ${tokenHash}`
  if (!row || row.revokedAt) return null
  const { lastUsedAt } = row
  const parties: Parties = { name: row.name ?? '', people: typeof row.people === 'string' ? (JSON.parse(row.people) as Person[]) : row.people }
  if (row.userId) {
    return {
      viewer: { kind: 'user', id: row.userId, tokenId: row.id, permissions: new Set(row.permissions as Permission[]), roleKeys: row.roleKeys, parties },
      lastUsedAt,
    }
  }
  if (row.agentId && row.agentEnabled) {
    const viewer: Viewer = {
      kind: 'agent',
      id: row.agentId,
      tokenId: row.id,
      permissions: new Set(AGENT_PERMISSIONS),
      ownerId: row.agentOwnerId,
      actsForUserIds: [...new Set([...(row.agentOwnerId ? [row.agentOwnerId] : []), ...row.actsForIds])],
      actsForRecordManager: row.actsForRecordManager,
      parties,
    }
    return { viewer, lastUsedAt }
  }
  return null
}

/** Whether a token last used at `lastUsedAt` needs its lastUsedAt written again at `now`. */
export const lastUsedIsStale = (lastUsedAt: Date | null, now: Date) => !lastUsedAt || now.getTime() - lastUsedAt.getTime() > LAST_USED_RESOLUTION_MS

/** Records that a token was used (at most once a minute per token: see lastUsedIsStale). */
export async function touchToken(prisma: PrismaClient, tokenId: string, now: Date): Promise<void> {
  await prisma.apiToken.update({ where: { id: tokenId }, data: { lastUsedAt: now } })
}

/**
 * A user as a viewer without a token, for decisions made outside the API (an email's decision
 * link, a Slack button), which then pass the same checks as the API's: the permissions of the
 * user's roles now. `via` stands in for the token id (nothing is counted or revoked by it). Null
 * for an unknown user.
 */
export async function readUserViewer(prisma: PrismaClient, userId: string, via: string): Promise<Viewer | null> {
  const user = await prisma.user.findUnique({ where: { id: userId }, select: { id: true, roles: { select: { key: true, permissions: true } } } })
  if (!user) return null
  return {
    kind: 'user',
    id: user.id,
    tokenId: via,
    permissions: new Set(user.roles.flatMap((r) => r.permissions) as Permission[]),
    roleKeys: user.roles.map((r) => r.key).sort(),
  }
}
