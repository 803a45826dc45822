/** The permissions of the public contract. Roles grant them; scope-auth checks them on each field. */
export const PERMISSIONS = ['approval:manage', 'approval:resolve', 'approval:view', 'directory:manage', 'record:manage'] as const
export type Permission = (typeof PERMISSIONS)[number]

/** Agents act through approval requests and, as reviewer agents, decide them. */
export const AGENT_PERMISSIONS: readonly Permission[] = ['approval:resolve']

/** Only a holder of this role may grant or take it away, so admins cannot make themselves owners. */
export const OWNER_ROLE_KEY = 'owner'
