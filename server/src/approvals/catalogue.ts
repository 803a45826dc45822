// The action types rules can gate, each with the JSON Schema (draft 2020-12) its params must
// satisfy: the built-ins below, and the custom ones an admin adds (approvals/action-types.ts). A
// request whose params do not satisfy it is refused before anything is stored, so a rule's
// conditions always see params of the shape they were written for: an agent cannot slip past
// `{"in": ["evil.com", {"var": "params.url"}]}` by sending the URL as a list or an object.
import { Ajv2020, type ErrorObject, type ValidateFunction } from 'ajv/dist/2020.js'
import addFormatsModule from 'ajv-formats'
import { createAnnouncedCache } from '../cache/announced.js'
import type { Clock } from '../clock.js'
import type { Prisma, PrismaClient } from '../db.js'
import { badInput } from '../errors.js'
import type { ActionType as ActionTypeRow, ResourceType } from '../generated/prisma/client.js'
import type { Logger } from '../logger.js'
import type { PubSub } from '../pubsub.js'

export type JsonSchema = Record<string, unknown>

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
    // what the MCP gateway (sdk/src/mcp) asks before it forwards a tool call: rules gate by server,
    // tool and arguments; the tool's own input schema travels in the request's context, since
    // arguments differ per tool and this schema can only say they are an object
    key: 'call_tool',
    resourceType: 'AGENT_ACTION',
    description: 'Call a tool of an MCP server',
    paramsSchema: object(['server', 'tool', 'arguments'], {
      server: { ...text, minLength: 1, maxLength: 200, description: "The MCP server, by its name in the gateway's configuration." },
      tool: { ...text, minLength: 1, maxLength: 200, description: "The tool's name on that server." },
      arguments: { type: 'object', description: "The tool's arguments, as its input schema describes them." },
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

/** An action type requests may name: a built-in (code), or a custom one an admin added (the ActionType table). */
export interface ActionType {
  key: string
  resourceType: ResourceType
  description: string
  paramsSchema: JsonSchema
  builtIn: boolean
  /** The compiled paramsSchema: compiled once per version (a custom type's on first use). */
  validator(): ValidateFunction
}

type Db = Prisma.TransactionClient | PrismaClient

// ajv-formats is CommonJS; under NodeNext its default import is the module object
const addFormats = ((addFormatsModule as unknown as { default?: typeof addFormatsModule }).default ?? addFormatsModule) as unknown as (ajv: Ajv2020) => void
const newAjv = () => {
  const ajv = new Ajv2020({ allErrors: false, strict: true, allowUnionTypes: true })
  addFormats(ajv)
  return ajv
}
const ajv = newAjv()

const BUILT_IN = new Map<string, ActionType>(
  ACTION_TYPES.map((a): [string, ActionType] => {
    const validate = ajv.compile(a.paramsSchema)
    return [a.key, { ...a, builtIn: true, validator: () => validate }]
  }),
)

/** The built-in action type under `key`, if there is one. */
export const findBuiltIn = (key: string): ActionType | undefined => BUILT_IN.get(key)

/**
 * Compiles a custom action type's schema with the built-ins' options and formats (strict mode:
 * unknown keywords and formats are errors) in an ajv of its own, so that one schema's `$id` or
 * anchors cannot collide with another's, nor stay registered after it changed. Throws ajv's
 * error when `schema` is no valid JSON Schema (draft 2020-12).
 */
export function compileParamsSchema(schema: JsonSchema): ValidateFunction {
  // an asynchronous validator returns a promise, which would pass every params as truthy
  if ('$async' in schema) throw new Error('$async schemas are not supported')
  return newAjv().compile(schema)
}

/** Compiled custom schemas kept at most per instance (the oldest go first). */
const MAX_VALIDATORS = 1000

/** A stored custom action type; `validators` keeps compiled schemas by key and version across reads. */
function customActionType(row: ActionTypeRow, validators?: Map<string, ValidateFunction>): ActionType {
  const version = `${row.key}@${row.updatedAt.getTime()}`
  const paramsSchema = row.paramsSchema as JsonSchema
  let compiled: ValidateFunction | undefined
  return {
    key: row.key,
    resourceType: 'AGENT_ACTION',
    description: row.description,
    paramsSchema,
    builtIn: false,
    validator() {
      compiled ??= validators?.get(version)
      if (compiled) return compiled
      compiled = compileParamsSchema(paramsSchema)
      if (validators) {
        validators.set(version, compiled)
        if (validators.size > MAX_VALIDATORS) validators.delete(validators.keys().next().value!)
      }
      return compiled
    },
  }
}

/** The action type under `key`, read from `db` (a transaction sees what it locked): built-in, custom, or undefined. */
export async function readActionType(db: Db, key: string): Promise<ActionType | undefined> {
  const builtIn = findBuiltIn(key)
  if (builtIn) return builtIn
  const row = await db.actionType.findUnique({ where: { key } })
  return row ? customActionType(row) : undefined
}

/**
 * The catalogue as requests see it: the built-ins, from code, and the custom action types, kept
 * in memory. A custom type's change is announced (actionTypesChanged) and every instance drops
 * what it holds; while announcements cannot arrive an entry serves for 1 s at most
 * (cache/announced.ts). A built-in key never costs a query, a custom one none once read, and an
 * unknown one is read each time (it may have been created a moment ago on another instance).
 */
export interface ActionTypeRegistry {
  /** The action type under `key`: a built-in, a custom one from memory or read from `db` (and kept), or undefined. */
  find(db: Db, key: string): Promise<ActionType | undefined>
  /** Every action type: the built-ins, then the custom ones by key, read from `db`. */
  list(db: Db): Promise<ActionType[]>
  /** Drops the custom types held (this instance changed one: the next request must see it). */
  invalidate(): void
  /** Stops listening. */
  stop(): void
}

export function createActionTypeRegistry(options: { pubsub: PubSub; clock: Clock; log: Logger; ttlMs?: number }): ActionTypeRegistry {
  const cache = createAnnouncedCache<ActionType>({ ...options, topics: ['actionTypesChanged'], ttlMs: options.ttlMs ?? 5 * 60_000, maxEntries: 1000 })
  const validators = new Map<string, ValidateFunction>()
  return {
    find: async (db, key) =>
      findBuiltIn(key) ??
      cache.get(key, async () => {
        const row = await db.actionType.findUnique({ where: { key } })
        return row ? customActionType(row, validators) : undefined
      }),
    async list(db) {
      const rows = await db.actionType.findMany({ orderBy: { key: 'asc' } })
      // a custom key a later release made built-in is the built-in's
      return [...BUILT_IN.values(), ...rows.filter((r) => !BUILT_IN.has(r.key)).map((r) => customActionType(r, validators))]
    },
    invalidate: cache.invalidate,
    stop: cache.stop,
  }
}

/** The action type under `key`: through `registry` when given, else read from `db`. */
export function findActionType(db: Db, key: string, registry?: ActionTypeRegistry): Promise<ActionType | undefined> {
  return registry ? registry.find(db, key) : readActionType(db, key)
}

/**
 * The action type of an input (a rule's, a request's), which must exist and be of its resource
 * type; BAD_USER_INPUT if not. Found through `registry` when given, else read from `db`.
 */
export async function checkActionType(db: Db, resourceType: ResourceType, actionType: string, registry?: ActionTypeRegistry): Promise<ActionType> {
  const action = await findActionType(db, actionType, registry)
  if (!action) throw badInput(`Unknown action type "${actionType}"; see the actionTypes query.`, 'input.actionType')
  if (action.resourceType !== resourceType) {
    throw badInput(`Action type ${actionType} is a ${action.resourceType}, not a ${resourceType}.`, 'input.actionType')
  }
  return action
}

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
export function checkParams(action: ActionType, params: unknown): ParamsProblem | null {
  const validate = action.validator()
  if (validate(params)) return null
  return describe(validate.errors![0]!)
}

const asList = (value: unknown) => (value === undefined ? undefined : (Array.isArray(value) ? value : [value]).map((v) => String(v).trim().toLowerCase()))
export function canonicalUrl(value: unknown): unknown {
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
