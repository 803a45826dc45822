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

/** Skip the lastUsedAt write when the token was used this recently: one write per token a minute, not per request. */
const LAST_USED_RESOLUTION_MS = 60_000

/**
 * The viewer a bearer token stands for, or null when the token is unknown, revoked, or belongs
 * to a disabled agent.
 */
export async function viewerForToken(prisma: PrismaClient, token: string, now: Date): Promise<Viewer | null> {
  const row = await prisma.apiToken.findUnique({
    where: { tokenHash: hashToken(token) },
    select: {
      id: true,
      revokedAt: true,
      lastUsedAt: true,
      user: { select: { id: true, roles: { select: { key: true, permissions: true } } } },
      agent: {
        select: {
          id: true,
          enabled: true,
          ownerId: true,
          owner: { select: { roles: { select: { permissions: true } } } },
          actsFor: { select: { id: true, roles: { select: { permissions: true } } } },
        },
      },
    },
  })
  if (!row || row.revokedAt) return null
  if (!row.lastUsedAt || now.getTime() - row.lastUsedAt.getTime() > LAST_USED_RESOLUTION_MS) {
    await prisma.apiToken.update({ where: { id: row.id }, data: { lastUsedAt: now } })
  }
  if (row.user) {
    const permissions = new Set(row.user.roles.flatMap((r) => r.permissions) as Permission[])
    return { kind: 'user', id: row.user.id, tokenId: row.id, permissions, roleKeys: row.user.roles.map((r) => r.key) }
  }
  if (row.agent?.enabled) {
    const { agent } = row
    const people = [...(agent.owner ? [agent.owner] : []), ...agent.actsFor]
    return {
      kind: 'agent',
      id: agent.id,
      tokenId: row.id,
      permissions: new Set(AGENT_PERMISSIONS),
      ownerId: agent.ownerId,
      actsForUserIds: [...new Set([...(agent.ownerId ? [agent.ownerId] : []), ...agent.actsFor.map((u) => u.id)])],
      actsForRecordManager: people.some((u) => u.roles.some((r) => r.permissions.includes('record:manage'))),
    }
  }
  return null
}
