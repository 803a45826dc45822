// Who may read and reassign records of the records store. A record is readable by its owner,
// by holders of record:manage, and by agents acting for a user who may read it (the agent's
// owner, or a user it is allowed to act for). Reassigning a record (changing ownerId) needs
// record:manage or being its current owner, so nobody can take a record over and so become its
// RECORD_OWNER reviewer.
import type { Viewer } from '../auth/viewer.js'
import type { Prisma } from '../db.js'

/** What a principal may do with records: everything, or what the owners in `ownerIds` may. */
export type RecordScope = { all: true } | { all: false; ownerIds: string[] }

/**
 * The records scope of a viewer. Users: by their permissions. Agents: the union of the users
 * they act for (owner and allowed users), as loaded with the viewer.
 */
export function recordScope(viewer: Viewer): RecordScope {
  if (viewer.kind === 'user') return viewer.permissions.has('record:manage') ? { all: true } : { all: false, ownerIds: [viewer.id] }
  return viewer.actsForRecordManager ? { all: true } : { all: false, ownerIds: [...viewer.actsForUserIds] }
}

/** The records a scope may read, as a Prisma filter. */
export function readableRecords(scope: RecordScope): Prisma.RecordWhereInput {
  return scope.all ? {} : { ownerId: { in: scope.ownerIds } }
}

export function mayRead(scope: RecordScope, record: { ownerId: string | null }): boolean {
  return scope.all || (record.ownerId !== null && scope.ownerIds.includes(record.ownerId))
}

/** Whether the scope may give a record (currently owned by `currentOwnerId`, or new) to `newOwnerId`. */
export function mayAssignOwner(scope: RecordScope, currentOwnerId: string | null | undefined, newOwnerId: string | null): boolean {
  if (scope.all) return true
  // a new record: one may only make oneself (or the user an agent acts for) its owner
  if (currentOwnerId === undefined) return newOwnerId !== null && scope.ownerIds.includes(newOwnerId)
  return currentOwnerId !== null && scope.ownerIds.includes(currentOwnerId)
}
