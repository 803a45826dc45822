import { encodeGlobalID } from '@pothos/plugin-relay'
import { z } from 'zod'
import type { Viewer as ViewerShape } from '../auth/viewer.js'
import { builder } from '../builder.js'
import * as directory from '../directory/directory.js'
import type { Agent as AgentRow, User as UserRow } from '../generated/prisma/client.js'
import type { Context } from '../context.js'
import { agentsVisibleTo, seesPersonalDetails, usersVisibleTo } from '../directory/visibility.js'
import { parseId, parseOptionalId } from './ids.js'

const name = z.string().trim().min(1, 'must not be empty').max(200, 'must be at most 200 characters')

export const Principal = builder.interfaceRef<UserRow | AgentRow>('Principal').implement({
  description: 'Someone who acts: a user or an agent.',
  // users have an email and agents do not; both are loaded whole where a Principal is returned
  resolveType: (p) => ('email' in p ? 'User' : 'Agent'),
  fields: (t) => ({
    name: t.exposeString('name'),
  }),
})
builder.interfaceField(Principal, 'id', (t) =>
  t.id({ resolve: (p) => encodeGlobalID('email' in p ? 'User' : 'Agent', p.id) }),
)

builder.prismaNode('Role', {
  id: { field: 'id' },
  nullable: true,
  fields: (t) => ({
    key: t.exposeString('key'),
    name: t.exposeString('name'),
    permissions: t.exposeStringList('permissions'),
  }),
})

/** Email and roles: for directory managers, the user, and the agents acting for the user. */
const PERSONAL = {
  authScopes: (user: UserRow, _args: object, ctx: Context) =>
    seesPersonalDetails(ctx.viewer, user.id) ? { authenticated: true } : { permission: 'directory:manage' as const },
  directives: [{ name: 'auth' as const, args: { anyOf: ['directory:manage', 'self', 'acting agent'] } }],
}

/**
 * Whether a user is away, until when, and who reviews in their place: for users (the inbox picks
 * delegates and shows who is away), and for the agents acting for them. Not for other agents: a
 * requesting agent would learn when its reviewers are away, and who stands in for them.
 */
const AVAILABILITY = {
  authScopes: (user: UserRow, _args: object, ctx: Context) =>
    ctx.viewer?.kind === 'agent' && !ctx.viewer.actsForUserIds.includes(user.id) ? { permission: 'directory:manage' as const } : { authenticated: true },
  directives: [{ name: 'auth' as const, args: { anyOf: ['user', 'acting agent', 'directory:manage'] } }],
}

/** How a user is told of requests: for directory managers and the user. */
const NOTIFICATION_SETTING = {
  authScopes: (user: UserRow, _args: object, ctx: Context) =>
    ctx.viewer?.kind === 'user' && ctx.viewer.id === user.id ? { authenticated: true } : { permission: 'directory:manage' as const },
  directives: [{ name: 'auth' as const, args: { anyOf: ['directory:manage', 'self'] } }],
}

/** A Slack member id, as Slack shows it (a user's profile, "Copy member ID"): U or W, then capitals and digits. */
const slackUserId = z.string().regex(/^[UW][A-Z0-9]{2,20}$/, 'must be a Slack member ID, like U024BE7LH')

/** A principal's tokens as listed: those not revoked, newest first (ids are UUIDv7, so they break ties in time order). */
const ACTIVE_TOKENS = { where: { revokedAt: null }, orderBy: [{ createdAt: 'desc' as const }, { id: 'desc' as const }] }

builder.prismaNode('User', {
  id: { field: 'id' },
  nullable: true,
  interfaces: [Principal],
  fields: (t) => ({
    name: t.exposeString('name'),
    email: t.exposeString('email', PERSONAL),
    roles: t.relation('roles', { query: { orderBy: { key: 'asc' } }, ...PERSONAL }),
    manager: t.relation('manager', {
      nullable: true,
      // users see the org chart; an agent only the managers of the people it acts for
      authScopes: (user, _args, ctx) =>
        ctx.viewer?.kind === 'agent' && !ctx.viewer.actsForUserIds.includes(user.id) ? { permission: 'directory:manage' } : { authenticated: true },
      directives: [{ name: 'auth', args: { anyOf: ['user', 'acting agent', 'directory:manage'] } }],
    }),
    available: t.exposeBoolean('available', {
      description: "False while the user cannot review; requests then go to their delegate, or to the rule's fallback.",
      ...AVAILABILITY,
    }),
    delegate: t.relation('delegate', {
      nullable: true,
      description: "Reviews in this user's place while the user is away.",
      ...AVAILABILITY,
    }),
    awayUntil: t.expose('awayUntil', { type: 'DateTime', nullable: true, description: 'When an away user becomes available again by itself.', ...AVAILABILITY }),
    notifyByEmail: t.exposeBoolean('notifyByEmail', {
      description: 'Whether new requests for this user to decide are sent by email.',
      ...NOTIFICATION_SETTING,
    }),
    slackUserId: t.exposeString('slackUserId', {
      nullable: true,
      description: "The user's Slack member id, for Slack notifications and decisions.",
      ...NOTIFICATION_SETTING,
    }),
    apiTokens: t.relation('apiTokens', {
      description: "The user's tokens that still work (not revoked), newest first: names and use, never the secrets. Directory managers and the user see them.",
      query: ACTIVE_TOKENS,
      authScopes: (user, _args, ctx) =>
        ctx.viewer?.kind === 'user' && ctx.viewer.id === user.id ? { authenticated: true } : { permission: 'directory:manage' },
      directives: [{ name: 'auth', args: { anyOf: ['directory:manage', 'self'] } }],
    }),
    createdAt: t.expose('createdAt', { type: 'DateTime' }),
  }),
})

builder.prismaNode('Agent', {
  id: { field: 'id' },
  nullable: true,
  interfaces: [Principal],
  fields: (t) => ({
    name: t.exposeString('name'),
    description: t.exposeString('description', { nullable: true }),
    owner: t.relation('owner', { nullable: true }),
    enabled: t.exposeBoolean('enabled', { description: 'A disabled agent cannot authenticate (its tokens stop working) or review.' }),
    actsFor: t.relation('actsFor', {
      description: 'The users, besides its owner, the agent may act for (onBehalfOfUserId). Directory managers and the agent itself see it.',
      query: { orderBy: { name: 'asc' } },
      authScopes: (agent, _args, ctx) =>
        ctx.viewer?.kind === 'agent' && ctx.viewer.id === agent.id ? { authenticated: true } : { permission: 'directory:manage' },
      directives: [{ name: 'auth', args: { anyOf: ['directory:manage', 'self'] } }],
    }),
    apiTokens: t.relation('apiTokens', {
      description: "The agent's tokens that still work (not revoked), newest first: names and use, never the secrets. Directory managers and the agent's owner see them.",
      query: ACTIVE_TOKENS,
      // the owner may disable the agent, and so needs to see what it has been using
      authScopes: (agent, _args, ctx) =>
        ctx.viewer?.kind === 'user' && agent.ownerId === ctx.viewer.id ? { authenticated: true } : { permission: 'directory:manage' },
      directives: [{ name: 'auth', args: { anyOf: ['directory:manage', "agent's owner"] } }],
    }),
    createdAt: t.expose('createdAt', { type: 'DateTime' }),
  }),
})

builder.prismaNode('ApiToken', {
  id: { field: 'id' },
  nullable: true,
  // node(id:) shows a token's metadata to its user and to directory managers
  findUnique: (id, ctx) => {
    const viewer = ctx.viewer
    if (viewer?.permissions.has('directory:manage')) return { id }
    return { id, AND: [viewer?.kind === 'user' ? { userId: viewer.id } : { id: { in: [] } }] }
  },
  fields: (t) => ({
    name: t.exposeString('name'),
    createdAt: t.expose('createdAt', { type: 'DateTime' }),
    lastUsedAt: t.expose('lastUsedAt', { type: 'DateTime', nullable: true }),
    revokedAt: t.expose('revokedAt', { type: 'DateTime', nullable: true }),
  }),
})

const CreatedApiToken = builder
  .objectRef<{ token: string; apiToken: Awaited<ReturnType<typeof directory.createApiToken>>['apiToken'] }>('CreatedApiToken')
  .implement({
    fields: (t) => ({
      token: t.exposeString('token', { description: 'The secret, shown once.' }),
      apiToken: t.prismaField({ type: 'ApiToken', resolve: (_q, parent) => parent.apiToken }),
    }),
  })

const Viewer = builder.objectRef<ViewerShape>('Viewer').implement({
  fields: (t) => ({
    principal: t.field({
      type: Principal,
      resolve: async (viewer, _args, ctx) =>
        viewer.kind === 'user'
          ? ctx.prisma.user.findUniqueOrThrow({ where: { id: viewer.id } })
          : ctx.prisma.agent.findUniqueOrThrow({ where: { id: viewer.id } }),
    }),
    permissions: t.stringList({ resolve: (viewer) => [...viewer.permissions].sort() }),
  }),
})

builder.queryFields((t) => ({
  viewer: t.field({
    type: Viewer,
    authScopes: { authenticated: true },
    resolve: (_root, _args, ctx) => ctx.viewer!,
  }),
  roles: t.prismaField({
    type: ['Role'],
    authScopes: { authenticated: true },
    // the built-in roles, most powerful first, then any others by age (they share one createdAt)
    resolve: async (query, _root, _args, ctx) =>
      (
        await ctx.prisma.role.findMany({
          ...('select' in query && query.select ? { select: { ...query.select, key: true } } : query),
          orderBy: [{ createdAt: 'asc' }, { key: 'asc' }],
        })
      ).sort((a, b) => rank(a) - rank(b)),
  }),
  users: t.prismaField({
    type: ['User'],
    description: "Users see everyone's name and id (email and roles only their own); agents see the people they act for; directory managers see all.",
    authScopes: { authenticated: true },
    resolve: (query, _root, _args, ctx) =>
      ctx.prisma.user.findMany({ ...query, where: usersVisibleTo(ctx.viewer!), orderBy: [{ name: 'asc' }, { id: 'asc' }] }),
  }),
  agents: t.prismaField({
    type: ['Agent'],
    description: 'Users see every agent; an agent sees itself.',
    authScopes: { authenticated: true },
    resolve: (query, _root, _args, ctx) =>
      ctx.prisma.agent.findMany({ ...query, where: agentsVisibleTo(ctx.viewer!), orderBy: [{ name: 'asc' }, { id: 'asc' }] }),
  }),
}))

const BUILT_IN_ROLES = ['owner', 'admin', 'manager', 'member']
const rank = (role: { key?: string }) => {
  const i = BUILT_IN_ROLES.indexOf(role.key ?? '')
  return i === -1 ? BUILT_IN_ROLES.length : i
}

const CreateUserInput = builder.inputType('CreateUserInput', {
  fields: (t) => ({
    email: t.string({ required: true, validate: z.email('must be an email address').max(320) }),
    name: t.string({ required: true, validate: name }),
    roleKeys: t.stringList({ required: true, validate: z.array(z.string()).min(1, 'give at least one role') }),
    managerId: t.id(),
  }),
})

const UpdateUserInput = builder.inputType('UpdateUserInput', {
  fields: (t) => ({
    name: t.string({ validate: name.nullish() }),
    roleKeys: t.stringList({ validate: z.array(z.string()).min(1, 'give at least one role').nullish() }),
    managerId: t.id({ description: 'null removes the manager.' }),
    available: t.boolean(),
    delegateId: t.id({ description: "Who reviews in the user's place while away; null removes them." }),
    awayUntil: t.field({ type: 'DateTime', description: 'When the user becomes available again by itself; setting it marks the user away.' }),
    notifyByEmail: t.boolean({ description: 'Whether new requests for the user to decide are sent by email.' }),
    slackUserId: t.string({
      description: "The user's Slack member id (U… or W…), linked to one user at most; null removes it.",
      validate: slackUserId.nullish(),
    }),
  }),
})

const actsForUserIds = z.array(z.string()).max(100, 'at most 100 users').nullish()

const CreateAgentInput = builder.inputType('CreateAgentInput', {
  fields: (t) => ({
    name: t.string({ required: true, validate: name }),
    ownerId: t.id({ description: 'Defaults to the user who creates the agent.' }),
    description: t.string({ validate: z.string().max(2000).nullish() }),
    actsForUserIds: t.idList({ description: 'Users, besides its owner, the agent may act for.', validate: actsForUserIds }),
  }),
})

const UpdateAgentInput = builder.inputType('UpdateAgentInput', {
  fields: (t) => ({
    name: t.string({ validate: name.nullish() }),
    description: t.string({ validate: z.string().max(2000).nullish() }),
    enabled: t.boolean({ description: 'false disables the agent: its tokens stop working and its open connections are closed; true enables it again.' }),
    actsForUserIds: t.idList({ description: 'Replaces the users, besides its owner, the agent may act for.', validate: actsForUserIds }),
  }),
})

const userIds = (ids: readonly string[] | null | undefined, field: string) => ids?.map((id) => parseId(id, ['User'], field).id)

builder.mutationFields((t) => ({
  createUser: t.prismaField({
    type: 'User',
    authScopes: { permission: 'directory:manage' },
    args: { input: t.arg({ type: CreateUserInput, required: true }) },
    resolve: (query, _root, { input }, ctx) =>
      directory.createUser(
        ctx.prisma,
        ctx.viewer!,
        { ...input, managerId: parseOptionalId(input.managerId, ['User'], 'input.managerId') },
        query,
      ),
  }),
  updateUser: t.prismaField({
    type: 'User',
    authScopes: { permission: 'directory:manage' },
    args: { id: t.arg.id({ required: true }), input: t.arg({ type: UpdateUserInput, required: true }) },
    resolve: async (query, _root, { id, input }, ctx) => {
      const userId = parseId(id, ['User'], 'id').id
      const { user, moved } = await directory.updateUser(
        ctx.prisma,
        ctx.viewer!,
        userId,
        {
          ...input,
          managerId: parseOptionalId(input.managerId, ['User'], 'input.managerId'),
          delegateId: parseOptionalId(input.delegateId, ['User'], 'input.delegateId'),
        },
        ctx.clock.now(),
        query,
      )
      // roles decide what the user, and the agents acting for them, may do, and the name is what
      // conditions see of a requester: every instance reads the principals again
      ctx.pubsub.publish('principalChanged', { principalId: userId })
      await Promise.all(moved.map((id) => ctx.notify.changed(id)))
      return user
    },
  }),
  setMyAvailability: t.prismaField({
    type: 'User',
    description:
      "Marks the calling user available or away (until a date, if given), optionally naming a delegate; while away, their pending and new requests go to the delegate, or without one to the rule's fallback.",
    authScopes: { user: true },
    args: {
      available: t.arg.boolean({ required: true }),
      until: t.arg({ type: 'DateTime' }),
      delegateId: t.arg.id(),
    },
    resolve: async (query, _root, { available, until, delegateId }, ctx) => {
      const { user, moved } = await directory.setAvailability(
        ctx.prisma,
        ctx.viewer!.id,
        { available, awayUntil: until, delegateId: parseOptionalId(delegateId, ['User'], 'delegateId') },
        ctx.clock.now(),
        query,
      )
      await Promise.all(moved.map((id) => ctx.notify.changed(id)))
      return user
    },
  }),
  setMyNotifications: t.prismaField({
    type: 'User',
    description: 'Turns email notifications of new requests to decide on or off, for the calling user.',
    authScopes: { user: true },
    args: { email: t.arg.boolean({ required: true }) },
    resolve: (query, _root, { email }, ctx) => directory.setNotifications(ctx.prisma, ctx.viewer!.id, { notifyByEmail: email }, query),
  }),
  createAgent: t.prismaField({
    type: 'Agent',
    authScopes: { permission: 'directory:manage' },
    args: { input: t.arg({ type: CreateAgentInput, required: true }) },
    resolve: (query, _root, { input }, ctx) =>
      directory.createAgent(
        ctx.prisma,
        ctx.viewer!,
        {
          ...input,
          ownerId: parseOptionalId(input.ownerId, ['User'], 'input.ownerId'),
          actsForUserIds: userIds(input.actsForUserIds, 'input.actsForUserIds'),
        },
        query,
      ),
  }),
  updateAgent: t.prismaField({
    type: 'Agent',
    description:
      "Renames, describes, disables or enables an agent, or sets the users it may act for (directory managers). An agent's owner may disable and enable it.",
    authScopes: { user: true },
    directives: [{ name: 'auth', args: { anyOf: ['directory:manage', "agent's owner (enabled only)"] } }],
    args: { id: t.arg.id({ required: true }), input: t.arg({ type: UpdateAgentInput, required: true }) },
    resolve: async (query, _root, { id, input }, ctx) => {
      const agentId = parseId(id, ['Agent'], 'id').id
      const agent = await directory.updateAgent(
        ctx.prisma,
        ctx.viewer!,
        agentId,
        { ...input, actsForUserIds: userIds(input.actsForUserIds, 'input.actsForUserIds') },
        query,
      )
      if (input.enabled === false) ctx.pubsub.publish('accessRevoked', { principalId: agentId })
      else ctx.pubsub.publish('principalChanged', { principalId: agentId })
      return agent
    },
  }),
  revokeApiToken: t.prismaField({
    type: 'ApiToken',
    description: 'Revokes a token at once. Directory managers may revoke any token; a user their own.',
    authScopes: { authenticated: true },
    args: { id: t.arg.id({ required: true }) },
    resolve: async (query, _root, { id }, ctx) => {
      const revoked = await directory.revokeApiToken(ctx.prisma, ctx.viewer!, parseId(id, ['ApiToken'], 'id').id, ctx.clock.now())
      ctx.pubsub.publish('accessRevoked', { tokenId: revoked.id })
      return ctx.prisma.apiToken.findUniqueOrThrow({ ...query, where: { id: revoked.id } })
    },
  }),
  createApiToken: t.field({
    type: CreatedApiToken,
    description: 'A new token for a user or agent. Directory managers may issue one for anyone; a user for themselves.',
    args: {
      principalId: t.arg.id({ required: true }),
      name: t.arg.string({ required: true, validate: z.string().trim().min(1, 'must not be empty').max(100) }),
    },
    directives: [{ name: 'auth', args: { anyOf: ['directory:manage', 'self'] } }],
    authScopes: (_root, { principalId }, ctx) =>
      ctx.viewer?.kind === 'user' && principalId === encodeGlobalID('User', ctx.viewer.id)
        ? { authenticated: true }
        : { permission: 'directory:manage' },
    resolve: (_root, { principalId, name }, ctx) => {
      const ref = parseId(principalId, ['User', 'Agent'], 'principalId')
      return directory.createApiToken(ctx.prisma, ctx.viewer!, { kind: ref.typename === 'User' ? 'user' : 'agent', id: ref.id }, name)
    },
  }),
}))
