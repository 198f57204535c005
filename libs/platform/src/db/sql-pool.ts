import pg from 'pg';

/** One statement: `$1…$n` parameters; a `name` makes PostgreSQL parse and plan it once per connection. */
export interface Statement {
  name?: string;
  text: string;
}

export interface SqlRunner {
  query<R = Record<string, unknown>>(statement: Statement | string, values?: readonly unknown[]): Promise<R[]>;
}

/**
 * How long a query waits for a connection, here and in MikroORM's pool: a new one to a server
 * that doesn't answer, or a free one in a full pool. Then it fails, as UNAVAILABLE
 * (database-unavailable.ts), rather than hang.
 */
export const CONNECT_TIMEOUT_MS = 10_000;

/**
 * Plain node-postgres on the service's own database, beside MikroORM, for the paths where the
 * ORM's unit of work and query building cost more than the query: a hot path names its
 * statements (prepared once per connection) and runs them here. Same database, same
 * migrations; its connections are in addition to MikroORM's (each pool holds DATABASE_POOL_MAX).
 */
export class SqlPool implements SqlRunner {
  private readonly pool: pg.Pool;

  constructor(url: string, max: number) {
    this.pool = new pg.Pool({ connectionString: url, max, idleTimeoutMillis: 30_000, connectionTimeoutMillis: CONNECT_TIMEOUT_MS });
    // An idle connection that breaks (PostgreSQL restarting) is dropped by the pool; the next query reconnects.
    this.pool.on('error', () => undefined);
  }

  async query<R = Record<string, unknown>>(statement: Statement | string, values: readonly unknown[] = []): Promise<R[]> {
    return (await this.pool.query<R & pg.QueryResultRow>(toConfig(statement, values))).rows;
  }

  /** Runs `work` in one transaction on one connection: committed if it returns, rolled back if it throws. */
  async transaction<T>(work: (tx: SqlRunner) => Promise<T>): Promise<T> {
    const client = await this.pool.connect();
    let broken = false;
    try {
      await client.query('begin');
      const result = await work({ query: async (statement, values = []) => (await client.query(toConfig(statement, values))).rows });
      await client.query('commit');
      return result;
    } catch (err) {
      await client.query('rollback').catch(() => (broken = true));
      throw err;
    } finally {
      client.release(broken);
    }
  }

  close(): Promise<void> {
    return this.pool.end();
  }
}

function toConfig(statement: Statement | string, values: readonly unknown[]): pg.QueryConfig {
  return typeof statement === 'string' ? { text: statement, values: values as unknown[] } : { ...statement, values: values as unknown[] };
}

/** PostgreSQL's SQLSTATE of `err`, if it is a database error. */
export function sqlState(err: unknown): string | undefined {
  const code = (err as { code?: unknown } | null)?.code;
  return typeof code === 'string' && /^[0-9A-Z]{5}$/.test(code) ? code : undefined;
}

export const SQL_STATE = {
  uniqueViolation: '23505',
  deadlockDetected: '40P01',
  serializationFailure: '40001',
} as const;
