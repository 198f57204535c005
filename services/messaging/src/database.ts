import type { DatabaseSpec } from '@parley/platform';
import { UserProjectionSchema } from './domain/user-projection.entity.js';
import { migrations } from './migrations/index.js';

export const database: DatabaseSpec = { entities: [UserProjectionSchema], migrations };
