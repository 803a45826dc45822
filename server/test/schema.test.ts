import { readFileSync } from 'node:fs'
import { describe, expect, it } from 'vitest'
import { printSchemaFile } from '../src/schema/print.js'

describe('schema.graphql', () => {
  it('matches the schema the code builds (run `npm run schema:print` after changing the API)', () => {
    expect(readFileSync('schema.graphql', 'utf8')).toBe(printSchemaFile())
  })

  it('shows the permission of every query, mutation and subscription as an @auth directive', () => {
    const sdl = printSchemaFile()
    const rootFields = [...sdl.matchAll(/^type (Query|Mutation|Subscription) \{\n([\s\S]*?)\n\}/gm)].flatMap((m) => m[2]!.split('\n'))
    const fields = rootFields.filter((line) => /^  \w+[(:]/.test(line))
    expect(fields.length).toBeGreaterThan(8)
    for (const field of fields) expect(field).toMatch(/@auth\(anyOf: \[.+\]\)$/)
    expect(sdl).toMatch(/createUser\(input: CreateUserInput!\): User! @auth\(anyOf: \["directory:manage"\]\)/)
  })
})
