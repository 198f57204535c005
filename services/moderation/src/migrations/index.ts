// Written by parley-migration-create: the migrations in the order they run.
import type { MigrationObject } from '@mikro-orm/core';
import { Migration20261126113154 } from './Migration20261126113154.js';
import { Migration20261208003000 } from './Migration20261208003000.js';
import { Migration20261208010000 } from './Migration20261208010000.js';

export const migrations: MigrationObject[] = [
  { name: 'Migration20261126113154', class: Migration20261126113154 },
  { name: 'Migration20261208003000', class: Migration20261208003000 },
  { name: 'Migration20261208010000', class: Migration20261208010000 },
];
