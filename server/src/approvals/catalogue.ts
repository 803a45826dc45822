// The action types rules can gate, each with the JSON Schema (draft 2020-12) its params must
// satisfy. A request whose params do not satisfy it is refused before anything is stored, so a
// rule's conditions always see params of the shape they were written for: an agent cannot slip
// past `{"in": ["evil.com", {"var": "params.url"}]}` by sending the URL as a list or an object.
import { Ajv2020, type ErrorObject, type ValidateFunction } from 'ajv/dist/2020.js'
import addFormatsModule from 'ajv-formats'
import { badInput } from '../errors.js'
import type { ResourceType } from '../generated/prisma/client.js'

type JsonSchema = Record<string, unknown>

const text = { type: 'string' } as const
const email = { type: 'string', format: 'email' } as const
const emails = { anyOf: [email, { type: 'array', items: email, minItems: 1 }] } as const
const httpUrl = { type: 'string', format: 'uri', pattern: '^[hH][tT][tT][pP][sS]?://' } as const
const dateTime = { type: 'string', format: 'date-time' } as const
/** A user's ID (global, as the API gives it), or null for "no owner". */
const ownerId = { type: ['string', 'null'], maxLength: 200 } as const

const object = (required: string[], properties: Record<string, unknown>): JsonSchema => ({
  $schema: 'https://json-schema.org/draft/2020-12/schema',
  type: 'object',
  required,
  properties,
  // other fields are allowed, so existing agents keep working; conditions see them as given
  additionalProperties: true,
})

/** The built-in catalogue. */
export const ACTION_TYPES = [
  {
    key: 'send_email',
    resourceType: 'AGENT_ACTION',
    description: 'Send an email',
    paramsSchema: object(['to', 'subject', 'body'], {
      to: emails,
      cc: emails,
      bcc: emails,
      subject: text,
      body: { ...text, description: 'Plain text.' },
      html: text,
      attachments: {
        type: 'array',
        items: object(['name'], { name: text, size: { type: 'integer', minimum: 0 }, type: text }),
      },
    }),
  },
  {
    key: 'post_to_social',
    resourceType: 'AGENT_ACTION',
    description: 'Post to a social media account',
    paramsSchema: object(['text'], {
      text,
      platform: text,
      mediaUrls: { type: 'array', items: httpUrl },
      scheduledAt: dateTime,
    }),
  },
  {
    key: 'create_landing_page',
    resourceType: 'AGENT_ACTION',
    description: 'Publish a landing page',
    paramsSchema: object(['title'], { title: text, slug: text, html: text, publishAt: dateTime }),
  },
  {
    key: 'browse_website',
    resourceType: 'AGENT_ACTION',
    description: 'Drive a browser on a website',
    paramsSchema: object(['url'], {
      url: httpUrl,
      instructions: text,
      allowedDomains: { type: 'array', items: text },
      mayFillForms: { type: 'boolean' },
      mayPay: { type: 'boolean' },
    }),
  },
  {
    key: 'create_record',
    resourceType: 'RECORD_MUTATION',
    description: 'Create a record',
    paramsSchema: object(['module', 'data'], { module: { ...text, minLength: 1 }, data: { type: 'object' }, ownerId }),
  },
  {
    key: 'update_record',
    resourceType: 'RECORD_MUTATION',
    description: 'Update a record',
    paramsSchema: object(['recordId', 'data'], { recordId: { ...text, minLength: 1 }, data: { type: 'object' }, ownerId }),
  },
] as const satisfies readonly { key: string; resourceType: ResourceType; description: string; paramsSchema: JsonSchema }[]

export type ActionType = (typeof ACTION_TYPES)[number]

export function findActionType(key: string): ActionType | undefined {
  return ACTION_TYPES.find((a) => a.key === key)
}

/** The action type of an input (a rule's, a request's), which must exist and be of its resource type; BAD_USER_INPUT if not. */
export function checkActionType(resourceType: ResourceType, actionType: string): ActionType {
  const action = findActionType(actionType)
  if (!action) throw badInput(`Unknown action type "${actionType}"; see the actionTypes query.`, 'input.actionType')
  if (action.resourceType !== resourceType) {
    throw badInput(`Action type ${actionType} is a ${action.resourceType}, not a ${resourceType}.`, 'input.actionType')
  }
  return action
}

// ajv-formats is CommonJS; under NodeNext its default import is the module object
const addFormats = ((addFormatsModule as unknown as { default?: typeof addFormatsModule }).default ?? addFormatsModule) as unknown as (ajv: Ajv2020) => void
const ajv = new Ajv2020({ allErrors: false, strict: true, allowUnionTypes: true })
addFormats(ajv)
const validators = new Map<string, ValidateFunction>(ACTION_TYPES.map((a) => [a.key, ajv.compile(a.paramsSchema)]))

/** The first way `params` fail the action type's schema: where (a JSON pointer into params) and what. */
export interface ParamsProblem {
  pointer: string
  message: string
}

function describe(error: ErrorObject): ParamsProblem {
  const pointer = error.instancePath || ''
  const missing = error.keyword === 'required' ? (error.params as { missingProperty: string }).missingProperty : null
  if (missing) return { pointer: `${pointer}/${missing}`, message: `is required` }
  return { pointer, message: error.message ?? 'is invalid' }
}

/** Checks params against the action type's schema; null when they satisfy it. */
export function checkParams(actionType: string, params: unknown): ParamsProblem | null {
  const validate = validators.get(actionType)
  if (!validate) return { pointer: '', message: `unknown action type ${actionType}` }
  if (validate(params)) return null
  return describe(validate.errors![0]!)
}

const asList = (value: unknown) => (value === undefined ? undefined : (Array.isArray(value) ? value : [value]).map((v) => String(v).trim().toLowerCase()))
function canonicalUrl(value: unknown): unknown {
  if (typeof value !== 'string') return value
  try {
    // lower-cases the scheme and host, resolves dot segments and encodes the host (punycode)
    return new URL(value).href
  } catch {
    return value
  }
}

/**
 * The params as rule conditions see them: one form for what may be given in several, so that an
 * agent cannot choose the form that slips past a condition. Recipients (to, cc, bcc) are always
 * lists of lower-cased addresses (`{"in": [..., {"var": "params.to"}]}` tests membership);
 * URLs are canonical (lower-case scheme and host). What is stored and shown is the params as given.
 */
export function paramsForConditions(actionType: string, params: unknown): unknown {
  if (params === null || typeof params !== 'object' || Array.isArray(params)) return params
  const p = { ...(params as Record<string, unknown>) }
  if (actionType === 'send_email') {
    for (const field of ['to', 'cc', 'bcc']) if (field in p) p[field] = asList(p[field])
  }
  if (actionType === 'browse_website' && 'url' in p) p.url = canonicalUrl(p.url)
  if (actionType === 'post_to_social' && Array.isArray(p.mediaUrls)) p.mediaUrls = p.mediaUrls.map(canonicalUrl)
  return p
}
