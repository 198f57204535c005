import { RateLimitBucketSchema, SanctionStandingSchema, type DatabaseSpec } from '@parley/platform';
import { BlockProjectionSchema } from './domain/block-projection.entity.js';
import { DeviceKeysSchema, EcPreKeySchema, KyberPreKeySchema } from './domain/device-keys.entity.js';
import { DeviceProjectionSchema } from './domain/device-projection.entity.js';
import { IdentityLogEntrySchema } from './domain/identity-log.entity.js';
import { migrations } from './migrations/index.js';

export const database: DatabaseSpec = {
  entities: [
    DeviceProjectionSchema,
    BlockProjectionSchema,
    DeviceKeysSchema,
    EcPreKeySchema,
    KyberPreKeySchema,
    IdentityLogEntrySchema,
    RateLimitBucketSchema,
    SanctionStandingSchema,
  ],
  migrations,
};
