import { printSchemaWithDirectives } from '@graphql-tools/utils'
import { schema } from './index.js'

/** The SDL committed as schema.graphql: sorted, with each field's @auth directive. */
export function printSchemaFile(): string {
  return printSchemaWithDirectives(schema) + '\n'
}
