// Written by parley-migration-create: the migrations in the order they run.
import type { MigrationObject } from '@mikro-orm/core';
import { Migration20261126113131 } from './Migration20261126113131.js';
import { Migration20261126133557 } from './Migration20261126133557.js';
import { Migration20261207194500 } from './Migration20261207194500.js';
import { Migration20261207214925 } from './Migration20261207214925.js';
import { Migration20261208003000 } from './Migration20261208003000.js';
import { Migration20261208010000 } from './Migration20261208010000.js';

export const migrations: MigrationObject[] = [
  { name: 'Migration20261126113131', class: Migration20261126113131 },
  { name: 'Migration20261126133557', class: Migration20261126133557 },
  { name: 'Migration20261207194500', class: Migration20261207194500 },
  { name: 'Migration20261207214925', class: Migration20261207214925 },
  { name: 'Migration20261208003000', class: Migration20261208003000 },
  { name: 'Migration20261208010000', class: Migration20261208010000 },
];
