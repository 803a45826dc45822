import { decodeGlobalID } from '@pothos/plugin-relay'
import { badInput } from '../errors.js'

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i

/**
 * The database id inside a global ID of one of `types`, or BAD_USER_INPUT naming `field` when
 * the value is not such an ID. Returns the type too, for arguments that accept several.
 */
export function parseId<T extends string>(value: string, types: readonly T[], field: string): { typename: T; id: string } {
  let decoded: { typename: string; id: string }
  try {
    decoded = decodeGlobalID(value)
  } catch {
    throw badInput(`Not a valid ID: ${JSON.stringify(value)}.`, field)
  }
  if (!types.includes(decoded.typename as T) || !UUID.test(decoded.id)) {
    throw badInput(`Expected the ID of a ${types.join(' or ')}.`, field)
  }
  return { typename: decoded.typename as T, id: decoded.id }
}

/** parseId for optional inputs: undefined stays undefined (not given), null stays null (cleared). */
export function parseOptionalId<T extends string>(value: string | null | undefined, types: readonly T[], field: string) {
  return value == null ? value : parseId(value, types, field).id
}
