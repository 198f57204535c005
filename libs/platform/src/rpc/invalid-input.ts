import { Code, ConnectError } from '@connectrpc/connect';

/**
 * Failures that are the caller's input, not a bug, as INVALID_ARGUMENT; undefined for anything
 * else. The one place both server paths (connect-node and the fast path) and the interceptor
 * chain ask, so malformed input never answers INTERNAL nor logs at error level:
 * - connect's own parse and envelope errors, which it raises as INTERNAL;
 * - PostgreSQL's class 22 "data exception" (a number out of range, text that is not a uuid, a NUL
 *   in text, …), for a value that reached a statement unchecked. Driver errors carry the SQLSTATE
 *   as `code`, directly or as the `cause` of a wrapping error.
 */
export function invalidInput(err: unknown): ConnectError | undefined {
  if (err instanceof ConnectError) return err.code === Code.Internal && isMalformedRequest(err.rawMessage) ? asInvalid(err.rawMessage) : undefined;
  const sqlState = sqlDataException(err);
  return sqlState ? asInvalid(`${DATA_EXCEPTIONS[sqlState] ?? 'a value in the request is not valid'} (SQLSTATE ${sqlState})`) : undefined;
}

const MALFORMED_REQUEST = /^(parse binary|parse json|protocol error|received compressed envelope|decompression failed)/;

function isMalformedRequest(message: string): boolean {
  return MALFORMED_REQUEST.test(message);
}

function asInvalid(message: string): ConnectError {
  return new ConnectError(message, Code.InvalidArgument);
}

/**
 * What the common data exceptions tell the caller. The database's own words are not passed on:
 * a driver may prefix them with the statement.
 */
const DATA_EXCEPTIONS: Record<string, string> = {
  '22003': 'a number in the request is out of range',
  '22P02': 'a value in the request is malformed',
  '22021': 'text in the request holds a NUL or a byte that is not UTF-8',
  '22001': 'a value in the request is too long',
  '22007': 'a date or time in the request is malformed',
  '22008': 'a date or time in the request is out of range',
};

/** The SQLSTATE of a PostgreSQL data exception (class 22) in `err` or its causes. */
function sqlDataException(err: unknown): string | undefined {
  for (let e = err, depth = 0; e instanceof Error && depth < 4; e = e.cause, depth++) {
    const code = (e as { code?: unknown }).code;
    if (typeof code === 'string' && /^22[0-9A-Z]{3}$/.test(code)) return code;
  }
  return undefined;
}
