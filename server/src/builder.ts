import SchemaBuilder from '@pothos/core'
import ComplexityPlugin from '@pothos/plugin-complexity'
import DirectivesPlugin from '@pothos/plugin-directives'
import PrismaPlugin from '@pothos/plugin-prisma'
import RelayPlugin from '@pothos/plugin-relay'
import ScopeAuthPlugin from '@pothos/plugin-scope-auth'
import ValidationPlugin from '@pothos/plugin-validation'
import AuthDirectivePlugin from './auth/directive-plugin.js'
import type { Permission } from './auth/permissions.js'
import type { Context } from './context.js'
import { badInput, forbidden, unauthenticated } from './errors.js'
import { fieldCost, MAX_QUERY_COST } from './schema/cost.js'
import type PrismaTypes from './generated/pothos-types.js'
import { getDatamodel } from './generated/pothos-types.js'

export const builder = new SchemaBuilder<{
  Context: Context
  PrismaTypes: PrismaTypes
  AuthScopes: { authenticated: boolean; user: boolean; permission: Permission }
  Scalars: {
    ID: { Input: string; Output: string }
    DateTime: { Input: Date; Output: Date }
    JSON: { Input: unknown; Output: unknown }
  }
  Directives: { auth: { locations: 'FIELD_DEFINITION'; args: { anyOf: string[] } } }
  DefaultFieldNullability: false
  DefaultInputFieldRequiredness: false
}>({
  plugins: [ScopeAuthPlugin, AuthDirectivePlugin, ComplexityPlugin, PrismaPlugin, RelayPlugin, ValidationPlugin, DirectivesPlugin],
  defaultFieldNullability: false,
  // graphql-tools' printer, which writes schema.graphql, reads directives keyed by name
  directives: { useGraphQLToolsUnorderedDirectives: true },
  complexity: {
    fieldComplexity: fieldCost,
    limit: { complexity: MAX_QUERY_COST },
    complexityError: (_kind, result) =>
      badInput(
        `This operation would cost ${result.complexity}, more than the ${MAX_QUERY_COST} allowed: ask for fewer items (first), or fewer JSON fields (params, context, data) per item.`,
      ),
  },
  scopeAuth: {
    // a refused subscription never starts its generator (so it reads nothing)
    authorizeOnSubscribe: true,
    authScopes: (ctx) => ({
      authenticated: ctx.viewer !== null,
      user: ctx.viewer?.kind === 'user',
      permission: (p: Permission) => ctx.viewer?.permissions.has(p) ?? false,
    }),
    unauthorizedError: (_parent, ctx, _info, result) =>
      ctx.viewer ? forbidden(`Not allowed: ${result.message}`) : unauthenticated(),
  },
  prisma: {
    client: (ctx) => ctx.prisma,
    dmmf: getDatamodel(),
    exposeDescriptions: false,
    filterConnectionTotalCount: true,
    onUnusedQuery: process.env.NODE_ENV === 'production' ? null : 'warn',
  },
  relay: {
    clientMutationId: 'omit',
    cursorType: 'String',
    nodesQueryOptions: false,
    // node(id:) is defined in schema/node.ts: null, not an error, for malformed or hidden ids
    nodeQueryOptions: false,
  },
  validation: {
    validationError: (result) => {
      const issue = result.issues[0]
      const field = issue?.path?.map((p) => (typeof p === 'object' ? p.key : p)).join('.')
      return badInput(result.issues.map((i) => i.message).join('; '), field || undefined)
    },
  },
})
