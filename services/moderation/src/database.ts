import { RateLimitBucketSchema, type DatabaseSpec } from '@parley/platform';
import { migrations } from './migrations/index.js';

/** Moderation reads and writes its tables in SQL (see the migrations and README); only the platform's rate limits are entities. */
export const database: DatabaseSpec = { entities: [RateLimitBucketSchema], migrations };
