import pg from 'pg';
import type { Logger } from 'pino';

/**
 * Runs `work` while holding the database's migration lock: a session-level PostgreSQL advisory
 * lock, on a connection of its own, keyed by the database's name. Processes of one service that
 * start together (replicas, a rolling update, a migrate Job) take turns; the first applies the
 * migrations, the others find none pending. The lock is released when `work` ends, or by
 * PostgreSQL if the process dies holding it.
 */
export async function withMigrationLock<T>(url: string, log: Logger | undefined, work: () => Promise<T>): Promise<T> {
  const key = `parley migrations of ${databaseName(url)}`;
  const client = new pg.Client({ connectionString: url });
  await client.connect();
  try {
    const { rows } = await client.query<{ locked: boolean }>('select pg_try_advisory_lock(hashtextextended($1, 0)) as locked', [key]);
    if (!rows[0]?.locked) {
      log?.info('another process is migrating this database; waiting for it');
      await client.query('select pg_advisory_lock(hashtextextended($1, 0))', [key]);
    }
    try {
      return await work();
    } finally {
      await client.query('select pg_advisory_unlock(hashtextextended($1, 0))', [key]).catch(() => undefined);
    }
  } finally {
    await client.end().catch(() => undefined);
  }
}

/** Creates the database of `url` unless it exists; processes racing to create it all succeed. */
export async function createDatabaseIfMissing(url: string): Promise<void> {
  const name = databaseName(url);
  const server = new URL(url);
  server.pathname = '/postgres';
  const client = new pg.Client({ connectionString: server.toString() });
  await client.connect();
  try {
    const { rowCount } = await client.query('select 1 from pg_database where datname = $1', [name]);
    if (rowCount) return;
    await client.query(`create database ${pg.escapeIdentifier(name)}`).catch((err: { code?: string }) => {
      // duplicate_database, or the unique index on pg_database when two creations overlap.
      if (err.code !== '42P04' && err.code !== '23505') throw err;
    });
  } finally {
    await client.end().catch(() => undefined);
  }
}

export function databaseName(url: string): string {
  return decodeURIComponent(new URL(url).pathname.replace(/^\//, ''));
}
