// Written by parley-migration-create: the migrations in the order they run.
import type { MigrationObject } from '@mikro-orm/core';
import { Migration20261126113145 } from './Migration20261126113145.js';
import { Migration20261126124510 } from './Migration20261126124510.js';
import { Migration20261126131046 } from './Migration20261126131046.js';
import { Migration20261207214314 } from './Migration20261207214314.js';
import { Migration20261207214844 } from './Migration20261207214844.js';
import { Migration20261207220057 } from './Migration20261207220057.js';
import { Migration20261207230000 } from './Migration20261207230000.js';
import { Migration20261207230001 } from './Migration20261207230001.js';
import { Migration20261208003000 } from './Migration20261208003000.js';
import { Migration20261208010000 } from './Migration20261208010000.js';

export const migrations: MigrationObject[] = [
  { name: 'Migration20261126113145', class: Migration20261126113145 },
  { name: 'Migration20261126124510', class: Migration20261126124510 },
  { name: 'Migration20261126131046', class: Migration20261126131046 },
  { name: 'Migration20261207214314', class: Migration20261207214314 },
  { name: 'Migration20261207214844', class: Migration20261207214844 },
  { name: 'Migration20261207220057', class: Migration20261207220057 },
  { name: 'Migration20261207230000', class: Migration20261207230000 },
  { name: 'Migration20261207230001', class: Migration20261207230001 },
  { name: 'Migration20261208003000', class: Migration20261208003000 },
  { name: 'Migration20261208010000', class: Migration20261208010000 },
];
