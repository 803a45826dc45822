import { lexicographicSortSchema } from 'graphql'
import { authDirective } from '../auth/directive-plugin.js'
import { builder } from '../builder.js'
import './scalars.js'
import './directory.js'
import './enums.js'
import './action-types.js'
import './rules.js'
import './records.js'
import './requests.js'
import './subscriptions.js'
import './executions.js'
import './audit.js'
import './webhooks.js'
import './node.js'

builder.queryType({})
builder.mutationType({})

/** The API's schema, sorted so that its printed form is stable. */
export const schema = lexicographicSortSchema(builder.toSchema({ directives: [authDirective] }))
