import { describe, expect, it } from 'vitest'
import { exampleFor } from './samples'

const email = { type: 'string', format: 'email' }

describe("the test panel's sample params", () => {
  it('fills the required properties of an action type as the catalogue writes it', () => {
    const sendEmail = {
      type: 'object',
      required: ['to', 'subject', 'body'],
      properties: { to: { anyOf: [email, { type: 'array', items: email, minItems: 1 }] }, cc: email, subject: { type: 'string' }, body: { type: 'string' } },
    }
    expect(exampleFor(sendEmail)).toEqual({ to: 'someone@example.com', subject: 'example', body: 'example' })
  })

  it('passes formats, enums, numbers and lists', () => {
    const now = new Date('2030-01-01T00:00:00Z')
    expect(exampleFor({ type: 'string', format: 'uri', pattern: '^https?://' })).toBe('https://example.com/')
    expect(exampleFor({ type: 'string', format: 'date-time' }, now)).toBe('2030-01-02T00:00:00.000Z')
    expect(exampleFor({ enum: ['x', 'linkedin'] })).toBe('x')
    expect(exampleFor({ type: 'integer', minimum: 1 })).toBe(1)
    expect(exampleFor({ type: ['string', 'null'] })).toBe('example')
    expect(exampleFor({ type: 'array', items: email, minItems: 2 })).toEqual(['someone@example.com', 'someone@example.com'])
    expect(exampleFor({ type: 'object' })).toEqual({})
  })
})
