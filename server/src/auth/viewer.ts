import type { PrismaClient } from '../db.js'
import { AGENT_PERMISSIONS, type Permission } from './permissions.js'
import { hashToken } from './tokens.js'

/** Who is calling: a user or an agent, with the permissions their roles grant. */
export type Viewer =
  | { kind: 'user'; id: string; tokenId: string; permissions: ReadonlySet<Permission>; roleKeys: readonly string[] }
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
}

const RECORD_MANAGE: Permission = 'record:manage'

/** Skip the lastUsedAt write when the token was used this recently: one write per token a minute, not per request. */
const LAST_USED_RESOLUTION_MS = 60_000

/**
 * The viewer a bearer token stands for, or null when the token is unknown, revoked, or belongs
 * to a disabled agent.
 */
export async function viewerForToken(prisma: PrismaClient, token: string, now: Date): Promise<Viewer | null> {
  // One round trip: the token, its user's roles, or its agent with the people it acts for (every
  // request pays for this, so it is one statement rather than a query per relation)
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
                AND (ru."B" = a."ownerId" OR ru."B" IN (SELECT af."B" FROM "_AgentActsFor" af WHERE af."A" = a."id"))) AS "actsForRecordManager"
    FROM "ApiToken" t LEFT JOIN "Agent" a ON a."id" = t."agentId"
    WHERE t."tokenHash" = ${hashToken(token)}`
  if (!row || row.revokedAt) return null
  if (!row.lastUsedAt || now.getTime() - row.lastUsedAt.getTime() > LAST_USED_RESOLUTION_MS) {
    await prisma.apiToken.update({ where: { id: row.id }, data: { lastUsedAt: now } })
  }
  if (row.userId) {
    return { kind: 'user', id: row.userId, tokenId: row.id, permissions: new Set(row.permissions as Permission[]), roleKeys: row.roleKeys }
  }
  if (row.agentId && row.agentEnabled) {
    return {
      kind: 'agent',
      id: row.agentId,
      tokenId: row.id,
      permissions: new Set(AGENT_PERMISSIONS),
      ownerId: row.agentOwnerId,
      actsForUserIds: [...new Set([...(row.agentOwnerId ? [row.agentOwnerId] : []), ...row.actsForIds])],
      actsForRecordManager: row.actsForRecordManager,
    }
  }
  return null
}
