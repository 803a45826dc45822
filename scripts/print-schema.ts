// Writes schema.graphql from the code-first schema: npm run schema:print
import { writeFileSync } from 'node:fs'
import { printSchemaFile } from '../server/src/schema/print.js'

writeFileSync('schema.graphql', printSchemaFile())
console.log('wrote schema.graphql')
