// Written by parley-migration-create: the migrations in the order they run.
import type { MigrationObject } from '@mikro-orm/core';
import { Migration20261126113148 } from './Migration20261126113148.js';
import { Migration20261126125502 } from './Migration20261126125502.js';
import { Migration20261126130135 } from './Migration20261126130135.js';
import { Migration20261126131122 } from './Migration20261126131122.js';
import { Migration20261126150604 } from './Migration20261126150604.js';
import { Migration20261207192642 } from './Migration20261207192642.js';
import { Migration20261207210000 } from './Migration20261207210000.js';
import { Migration20261207214458 } from './Migration20261207214458.js';
import { Migration20261207220000 } from './Migration20261207220000.js';
import { Migration20261208003000 } from './Migration20261208003000.js';
import { Migration20261208004000 } from './Migration20261208004000.js';
import { Migration20261208010000 } from './Migration20261208010000.js';

export const migrations: MigrationObject[] = [
  { name: 'Migration20261126113148', class: Migration20261126113148 },
  { name: 'Migration20261126125502', class: Migration20261126125502 },
  { name: 'Migration20261126130135', class: Migration20261126130135 },
  { name: 'Migration20261126131122', class: Migration20261126131122 },
  { name: 'Migration20261126150604', class: Migration20261126150604 },
  { name: 'Migration20261207192642', class: Migration20261207192642 },
  { name: 'Migration20261207210000', class: Migration20261207210000 },
  { name: 'Migration20261207214458', class: Migration20261207214458 },
  { name: 'Migration20261207220000', class: Migration20261207220000 },
  { name: 'Migration20261208003000', class: Migration20261208003000 },
  { name: 'Migration20261208004000', class: Migration20261208004000 },
  { name: 'Migration20261208010000', class: Migration20261208010000 },
];
