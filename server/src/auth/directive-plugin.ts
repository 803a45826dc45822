import SchemaBuilder, { BasePlugin, type PothosOutputFieldConfig, type SchemaTypes } from '@pothos/core'
import { DirectiveLocation, GraphQLDirective, GraphQLList, GraphQLNonNull, GraphQLString } from 'graphql'

/**
 * `@auth(anyOf: [...])`: the scopes of which a caller needs one to use a field, printed into
 * schema.graphql so that readers of the API see each field's permission. Scope names are
 * `authenticated`, `user`, `self` and the permissions (e.g. `directory:manage`).
 */
export const authDirective = new GraphQLDirective({
  name: 'auth',
  description: 'The caller needs one of these scopes: authenticated, user (not an agent), self, or a permission.',
  locations: [DirectiveLocation.FIELD_DEFINITION],
  args: { anyOf: { type: new GraphQLNonNull(new GraphQLList(new GraphQLNonNull(GraphQLString))) } },
})

/** Scope names of a static `authScopes` object: `{ permission: 'x' }` is `x`, `{ user: true }` is `user`. */
function scopeNames(scopes: Record<string, unknown>): string[] {
  return Object.entries(scopes).flatMap(([scope, param]) =>
    scope === 'permission' ? [String(param)] : param === true ? [scope] : [],
  )
}

const pluginName = 'authDirective'

/**
 * Derives the `@auth` directive from each field's static `authScopes`, so that the enforced rule
 * (scope-auth) and the printed one cannot disagree. Fields whose scopes are computed from their
 * arguments declare their directive by hand. Registered before the directives plugin, which
 * merges what this one records.
 */
export class AuthDirectivePlugin<Types extends SchemaTypes> extends BasePlugin<Types> {
  override onOutputFieldConfig(fieldConfig: PothosOutputFieldConfig<Types>) {
    const scopes = (fieldConfig.pothosOptions as { authScopes?: unknown }).authScopes
    if (!scopes || typeof scopes !== 'object') return fieldConfig
    // keyed by name, the form the builder is configured for (useGraphQLToolsUnorderedDirectives)
    const existing = (fieldConfig.extensions?.directives as Record<string, unknown> | undefined) ?? {}
    if ('auth' in existing || (fieldConfig.pothosOptions as { directives?: unknown }).directives) return fieldConfig
    return {
      ...fieldConfig,
      extensions: {
        ...fieldConfig.extensions,
        directives: { ...existing, auth: { anyOf: scopeNames(scopes as Record<string, unknown>) } },
      },
    }
  }
}

declare global {
  export namespace PothosSchemaTypes {
    export interface Plugins<Types extends SchemaTypes> {
      authDirective: AuthDirectivePlugin<Types>
    }
  }
}

SchemaBuilder.registerPlugin(pluginName, AuthDirectivePlugin)

export default pluginName
