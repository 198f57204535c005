import { DriverException } from '@mikro-orm/core';
import { databaseUnavailable } from './database-unavailable.js';

/** An error as node-postgres raises it: the SQLSTATE or errno in `code`. */
function driverError(message: string, code?: string): Error {
  return Object.assign(new Error(message), code ? { code } : {});
}

describe('databaseUnavailable', () => {
  it.each([
    ['57P01', 'terminating connection due to administrator command'],
    ['57P03', 'the database system is shutting down'],
    ['57P03', 'the database system is starting up'],
    ['08006', 'connection failure'],
    ['53300', 'sorry, too many clients already'],
    ['25006', 'cannot execute INSERT in a read-only transaction'],
    ['ECONNREFUSED', 'connect ECONNREFUSED 127.0.0.1:5432'],
    ['ECONNRESET', 'read ECONNRESET'],
  ])('is true for %s (%s)', (code, message) => {
    expect(databaseUnavailable(driverError(message, code))).toBe(true);
  });

  it.each([
    'Connection terminated unexpectedly',
    'timeout exceeded when trying to connect',
    'insert into "message" ("id") values ($1) - Connection terminated unexpectedly',
    'Client has encountered a connection error and is not queryable',
  ])('is true for node-postgres\'s "%s"', (message) => {
    expect(databaseUnavailable(driverError(message))).toBe(true);
  });

  it("is true for knex's pool timeout and for what MikroORM wraps", () => {
    expect(databaseUnavailable(Object.assign(new Error('Knex: Timeout acquiring a connection.'), { name: 'KnexTimeoutError' }))).toBe(true);
    expect(databaseUnavailable(new DriverException(driverError('the database system is starting up', '57P03')))).toBe(true);
    expect(databaseUnavailable(new Error('flush failed', { cause: driverError('read ECONNRESET', 'ECONNRESET') }))).toBe(true);
  });

  it.each([
    ['23505', 'duplicate key value violates unique constraint'],
    ['22P02', 'invalid input syntax for type uuid'],
    ['40001', 'could not serialize access'],
    ['42P01', 'relation "x" does not exist'],
  ])('is false for %s (%s), which a retry would not fix or which is handled elsewhere', (code, message) => {
    expect(databaseUnavailable(driverError(message, code))).toBe(false);
  });

  it('is false for a bug', () => {
    expect(databaseUnavailable(new TypeError("Cannot read properties of undefined (reading 'id')"))).toBe(false);
    expect(databaseUnavailable('Connection terminated')).toBe(false);
  });
});
