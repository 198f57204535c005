import type { DatabaseSpec } from '@parley/platform';
import { migrations } from './migrations/index.js';

/** Only the platform's outbox and processed-event tables so far. */
export const database: DatabaseSpec = { entities: [], migrations };
