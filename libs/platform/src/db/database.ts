import { type EntitySchema, type EventSubscriber, type MigrationObject } from '@mikro-orm/core';
import { Migrator } from '@mikro-orm/migrations';
import { MikroORM, PostgreSqlDriver } from '@mikro-orm/postgresql';
import type { Logger } from 'pino';
import { createDatabaseIfMissing, databaseName, withMigrationLock } from './migration-lock.js';
import { platformEntities } from './platform-entities.js';
import { CONNECT_TIMEOUT_MS } from './sql-pool.js';

export { MikroORM };

/** What a service declares about its own database. */
export interface DatabaseSpec {
  // eslint-disable-next-line @typescript-eslint/no-explicit-any
  entities: EntitySchema<any>[];
  migrations: MigrationObject[];
}

export interface OpenDatabaseOptions {
  url: string;
  createIfMissing: boolean;
  poolMax: number;
  subscribers?: EventSubscriber[];
  /**
   * 'apply' (the default) applies pending migrations; 'require' refuses a schema that is behind,
   * for deployments that migrate in a step of their own (the `migrate` command). Either way under
   * the database's migration lock, so replicas starting together migrate one at a time.
   */
  migrations?: 'apply' | 'require';
  log?: Logger;
}

export function ormOptions(spec: DatabaseSpec, opts: OpenDatabaseOptions) {
  return {
    driver: PostgreSqlDriver,
    clientUrl: opts.url,
    entities: [...platformEntities, ...spec.entities],
    extensions: [Migrator],
    // openDatabase creates the database itself (replicas may race to); the schema always comes from migrations.
    ensureDatabase: false,
    pool: { min: 0, max: opts.poolMax, acquireTimeoutMillis: CONNECT_TIMEOUT_MS },
    subscribers: opts.subscribers ?? [],
    discovery: { warnWhenNoEntities: false },
    metadataCache: { enabled: false },
    forceUtcTimezone: true,
    allowGlobalContext: false,
    migrations: { migrationsList: spec.migrations, transactional: true, allOrNothing: true, silent: true },
  };
}

/** Connects to the service's own database (creating it in dev) and applies pending migrations, or requires none. */
export async function openDatabase(spec: DatabaseSpec, opts: OpenDatabaseOptions): Promise<MikroORM> {
  if (opts.createIfMissing) await createDatabaseIfMissing(opts.url);
  const orm = await MikroORM.init(ormOptions(spec, opts));
  try {
    await withMigrationLock(opts.url, opts.log, async () => {
      if (opts.migrations === 'require') return requireNoPendingMigrations(orm);
      const applied = await orm.getMigrator().up();
      if (applied.length > 0) opts.log?.info({ migrations: applied.map((m) => m.name) }, `applied ${applied.length} migrations`);
    });
  } catch (err) {
    await orm.close(true);
    throw err;
  }
  return orm;
}

async function requireNoPendingMigrations(orm: MikroORM): Promise<void> {
  const pending = await orm.getMigrator().getPendingMigrations();
  if (pending.length === 0) return;
  throw new Error(
    `its schema is behind this version by ${pending.length} migrations (${pending.map((m) => m.name).join(', ')}): ` +
      "run this service's `migrate` command first, or start it with DATABASE_MIGRATE_ON_START=true",
  );
}

export function describeDatabase(url: string): string {
  const u = new URL(url);
  return `PostgreSQL at ${u.hostname}:${u.port || 5432} (database ${databaseName(url)})`;
}
