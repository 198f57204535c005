import { type EntitySchema, type EventSubscriber, type MigrationObject } from '@mikro-orm/core';
import { Migrator } from '@mikro-orm/migrations';
import { MikroORM, PostgreSqlDriver } from '@mikro-orm/postgresql';
import { platformEntities } from './platform-entities.js';

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
}

export function ormOptions(spec: DatabaseSpec, opts: OpenDatabaseOptions) {
  return {
    driver: PostgreSqlDriver,
    clientUrl: opts.url,
    entities: [...platformEntities, ...spec.entities],
    extensions: [Migrator],
    // Creates only the database; the schema always comes from migrations.
    ensureDatabase: opts.createIfMissing ? {} : false,
    pool: { min: 0, max: opts.poolMax },
    subscribers: opts.subscribers ?? [],
    discovery: { warnWhenNoEntities: false },
    metadataCache: { enabled: false },
    forceUtcTimezone: true,
    allowGlobalContext: false,
    migrations: { migrationsList: spec.migrations, transactional: true, allOrNothing: true, silent: true },
  };
}

/** Connects to the service's own database (creating it in dev) and applies pending migrations. */
export async function openDatabase(spec: DatabaseSpec, opts: OpenDatabaseOptions): Promise<MikroORM> {
  const orm = await MikroORM.init(ormOptions(spec, opts));
  try {
    await orm.getMigrator().up();
  } catch (err) {
    await orm.close(true);
    throw err;
  }
  return orm;
}

export function describeDatabase(url: string): string {
  const u = new URL(url);
  return `PostgreSQL at ${u.hostname}:${u.port || 5432} (database ${u.pathname.replace(/^\//, '')})`;
}
