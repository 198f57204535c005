import { rpcError } from '../rpc/errors.js';

/** A UUID in its canonical text form, in either case. The only copy: lint refuses a second one. */
export const UUID_PATTERN = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

/**
 * A UUID that a request's contract (`string.uuid`) already checked, as ids are stored: lowercase.
 */
export function canonicalUuid(value: string): string {
  return value.toLowerCase();
}

/**
 * For a UUID no contract checked (inside a page token): `value` trimmed and lowercased, as ids are
 * stored, or INVALID_ARGUMENT naming `field`: required when empty, otherwise it must be `what` (a
 * UUID unless the caller names where such ids come from).
 */
export function requireUuid(value: string, field: string, what = 'a UUID'): string {
  const id = value.trim().toLowerCase();
  if (!id) throw rpcError.invalidArgument(`${field} is required`);
  if (!UUID_PATTERN.test(id)) throw rpcError.invalidArgument(`${field} must be ${what}`);
  return id;
}
