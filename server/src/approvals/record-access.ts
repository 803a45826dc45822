// Who may read, change and reassign records of the records store.
//
// Reading goes by the record's module (record-visibility.ts): everyone signed in reads the records
// of an ORG module (the default); a PRIVATE module's record is read by its owner, by holders of
// record:manage, and by agents acting for a user who may read it (the agent's owner, or a user it
// is allowed to act for).
//
// Changing: the owner, an agent acting for the owner, or a holder of record:manage (or an agent
// acting for one) changes a record directly (an agent's change still goes through the rules).
// Anyone else who may read it may only propose a change: a rule must gate it (the RECORD_OWNER
// resolver makes the owner its reviewer), and the server runs it once approved; with no rule to
// gate it, it is refused. Reassigning a record (changing ownerId) needs record:manage or being its
// current owner, whatever the module, so nobody can take a record over and so become its
// RECORD_OWNER reviewer.
import type { Viewer } from '../auth/viewer.js'
import type { Prisma } from '../db.js'
import type { PrivateModules } from './record-visibility.js'

/** Whose records a principal acts for: everyone's, or those of the owners in `ownerIds`. */
export type RecordScope = { all: true } | { all: false; ownerIds: string[] }

/**
 * The records scope of a viewer. Users: by their permissions. Agents: the union of the users
 * they act for (owner and allowed users), as loaded with the viewer.
 */
export function recordScope(viewer: Viewer): RecordScope {
  if (viewer.kind === 'user') return viewer.permissions.has('record:manage') ? { all: true } : { all: false, ownerIds: [viewer.id] }
  return viewer.actsForRecordManager ? { all: true } : { all: false, ownerIds: [...viewer.actsForUserIds] }
}

/** The records a scope may read, as a Prisma filter: those of ORG modules, and its own. */
export function readableRecords(scope: RecordScope, privateModules: PrivateModules): Prisma.RecordWhereInput {
  if (scope.all || privateModules.size === 0) return {}
  return { OR: [{ module: { notIn: [...privateModules] } }, { ownerId: { in: scope.ownerIds } }] }
}

export function mayRead(scope: RecordScope, record: { module: string; ownerId: string | null }, privateModules: PrivateModules): boolean {
  return !privateModules.has(record.module) || mayChange(scope, record)
}

/**
 * Whether the scope changes the record without anyone's approval (the rules still gate agents):
 * it is the owner's, or the scope's is everyone's. Others may only propose a change.
 */
export function mayChange(scope: RecordScope, record: { ownerId: string | null }): boolean {
  return scope.all || (record.ownerId !== null && scope.ownerIds.includes(record.ownerId))
}

/** Whether the scope may give a record (currently owned by `currentOwnerId`, or new) to `newOwnerId`. */
export function mayAssignOwner(scope: RecordScope, currentOwnerId: string | null | undefined, newOwnerId: string | null): boolean {
  if (scope.all) return true
  // a new record: one may only make oneself (or the user an agent acts for) its owner
  if (currentOwnerId === undefined) return newOwnerId !== null && scope.ownerIds.includes(newOwnerId)
  return currentOwnerId !== null && scope.ownerIds.includes(currentOwnerId)
}
