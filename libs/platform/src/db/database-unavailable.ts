/**
 * Whether `err` (or one of its causes) says the database can't be used right now, so the call may
 * succeed if retried: the connection refused, reset or timed out, the server shutting down or
 * starting up (a restart, a failover), too many connections, a pool that found no connection in
 * time, a standby refusing a write. Drivers put the SQLSTATE or the socket's errno in `code`;
 * MikroORM copies it onto the error it wraps.
 */
export function databaseUnavailable(err: unknown): boolean {
  // Not `instanceof Error`: Node's socket errors may come from another realm (e.g. under jest).
  for (let e = err as ErrorLike | undefined, depth = 0; typeof e === 'object' && e !== null && depth < 4; e = e.cause as ErrorLike, depth++) {
    const { code, name, message } = e;
    if (typeof code === 'string' && (UNAVAILABLE_SQL_STATE.test(code) || UNREACHABLE_ERRNO.has(code))) return true;
    if (name === 'KnexTimeoutError' || (typeof message === 'string' && UNAVAILABLE_MESSAGE.test(message))) return true;
  }
  return false;
}

interface ErrorLike {
  code?: unknown;
  name?: unknown;
  message?: unknown;
  cause?: unknown;
}

/**
 * Class 08 (connection exception); 57P01–57P03 (admin shutdown, crash shutdown, cannot connect
 * now: shutting down or starting up); 53300 (too many connections); 25006 (read-only transaction:
 * a write reached a server that became a standby in a failover).
 */
const UNAVAILABLE_SQL_STATE = /^(08[0-9A-Z]{3}|57P0[123]|53300|25006)$/;

const UNREACHABLE_ERRNO = new Set(['ECONNREFUSED', 'ECONNRESET', 'EPIPE', 'ETIMEDOUT', 'EHOSTUNREACH', 'ENETUNREACH', 'ENOTFOUND', 'EAI_AGAIN']);

/**
 * node-postgres says these without a code: a dropped connection, a connect or pool timeout, a
 * broken client. Knex puts the statement before the driver's message, with " - ".
 */
const UNAVAILABLE_MESSAGE =
  /(^| - )(Connection terminated|timeout expired|timeout exceeded when trying to connect|Client has encountered a connection error|Client was closed and is not queryable)/;
