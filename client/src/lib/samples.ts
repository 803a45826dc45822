// The rule editor's test panel starts from a sample action that its action type accepts.

type Schema = Record<string, unknown>

/**
 * A small value that satisfies a JSON Schema as the catalogue writes them: an object's required
 * properties only, the first of anyOf/oneOf, an enum's first value, and placeholder strings that
 * pass the common formats. Something to edit, not a test of every case.
 */
export function exampleFor(schema: unknown, now = new Date()): unknown {
  if (!schema || typeof schema !== 'object') return null
  const s = schema as Schema
  if ('const' in s) return s.const
  if (Array.isArray(s.enum)) return s.enum[0] ?? null
  if (Array.isArray(s.examples) && s.examples.length > 0) return s.examples[0]
  const alternatives = (s.anyOf ?? s.oneOf) as unknown[] | undefined
  if (Array.isArray(alternatives) && alternatives.length > 0) return exampleFor(alternatives[0], now)
  const type = Array.isArray(s.type) ? (s.type.find((t) => t !== 'null') ?? 'null') : s.type
  switch (type) {
    case 'object': {
      const properties = (s.properties ?? {}) as Record<string, unknown>
      const required = Array.isArray(s.required) ? (s.required as string[]) : []
      return Object.fromEntries(required.map((key) => [key, exampleFor(properties[key], now)]))
    }
    case 'array':
      return typeof s.minItems === 'number' && s.minItems > 0 ? Array.from({ length: s.minItems }, () => exampleFor(s.items, now)) : []
    case 'string':
      return exampleString(s, now)
    case 'integer':
    case 'number':
      return typeof s.minimum === 'number' ? s.minimum : 0
    case 'boolean':
      return false
    default:
      return null
  }
}

function exampleString(s: Schema, now: Date): string {
  switch (s.format) {
    case 'email':
      return 'someone@example.com'
    case 'uri':
    case 'url':
      return 'https://example.com/'
    case 'date-time':
      return new Date(now.getTime() + 86_400_000).toISOString()
    case 'date':
      return new Date(now.getTime() + 86_400_000).toISOString().slice(0, 10)
    default:
      return 'example'.padEnd(typeof s.minLength === 'number' ? s.minLength : 0, '.')
  }
}
