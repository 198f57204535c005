#!/usr/bin/env node
/**
 * Generates a service's next migration: it applies the committed migrations to a scratch
 * database, diffs that schema against the service's entities, writes the difference as a new
 * migration and rewrites src/migrations/index.ts. The scratch database is dropped afterwards.
 * Usage: parley-migration-create <service-dir> [name]   (PostgreSQL from PARLEY_PG_URL)
 */
import { randomBytes } from 'node:crypto';
import { readdirSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { MikroORM } from '@mikro-orm/postgresql';
import type { DatabaseSpec } from '../db/database.js';
import { ormOptions } from '../db/database.js';

async function main() {
  const [dir, name] = process.argv.slice(2);
  if (!dir) throw new Error('usage: parley-migration-create <service-dir> [name]');
  const serviceDir = resolve(dir);
  const migrationsDir = join(serviceDir, 'src/migrations');
  // eslint-disable-next-line @typescript-eslint/no-require-imports
  const { database } = require(join(serviceDir, 'dist/database.js')) as { database: DatabaseSpec };
  const url = new URL(process.env.PARLEY_PG_URL ?? 'postgres://postgres@127.0.0.1:5432/postgres');
  url.pathname = `/parley_migration_${randomBytes(4).toString('hex')}`;
  const options = ormOptions(database, { url: url.toString(), createIfMissing: true, poolMax: 1 });
  const orm = await MikroORM.init({
    ...options,
    migrations: { ...options.migrations, path: migrationsDir, pathTs: migrationsDir, snapshot: false, emit: 'ts' },
  });
  let fileName: string;
  try {
    await orm.getMigrator().up();
    ({ fileName } = await orm.getMigrator().createMigration(migrationsDir, false, false, name));
  } finally {
    await orm.schema.dropDatabase();
    await orm.close(true);
  }
  if (!fileName) {
    console.log('no changes: nothing to migrate');
    return;
  }
  const classes = readdirSync(migrationsDir)
    .filter((f) => /^Migration\d+.*\.ts$/.test(f))
    .sort()
    .map((f) => f.replace(/\.ts$/, ''));
  const lines = [
    '// Written by parley-migration-create: the migrations in the order they run.',
    "import type { MigrationObject } from '@mikro-orm/core';",
    ...classes.map((c) => `import { ${c} } from './${c}.js';`),
    '',
    'export const migrations: MigrationObject[] = [',
    ...classes.map((c) => `  { name: '${c}', class: ${c} },`),
    '];',
    '',
  ];
  writeFileSync(join(migrationsDir, 'index.ts'), lines.join('\n'));
  console.log(`created ${fileName}`);
}

main().catch((err) => {
  console.error(err instanceof Error ? err.message : err);
  process.exit(1);
});
