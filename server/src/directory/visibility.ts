// Who sees whom in the directory. Directory managers see everyone and everything; users see
// every user's and agent's name and id (to pick reviewers, read who asked), but only their own
// email and roles; an agent sees only the people it acts for (its owner and the users it is
// allowed to act for) and itself.
import type { Viewer } from '../auth/viewer.js'
import type { Prisma } from '../db.js'

export function usersVisibleTo(viewer: Viewer): Prisma.UserWhereInput {
  if (viewer.kind === 'user') return {}
  return { id: { in: [...viewer.actsForUserIds] } }
}

export function agentsVisibleTo(viewer: Viewer): Prisma.AgentWhereInput {
  if (viewer.kind === 'user') return {}
  return { id: viewer.id }
}

/** Whether the viewer may see a user's email and roles: directory managers, the user, and the agents acting for them. */
export function seesPersonalDetails(viewer: Viewer | null, userId: string): boolean {
  if (!viewer) return false
  if (viewer.permissions.has('directory:manage')) return true
  return viewer.kind === 'user' ? viewer.id === userId : viewer.actsForUserIds.includes(userId)
}
