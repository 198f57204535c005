import { RateLimitBucketSchema, SanctionStandingSchema, type DatabaseSpec } from '@parley/platform';
import { BlockSchema, ContactRequestSchema, ContactSchema } from './domain/contact.entity.js';
import { DeviceSchema } from './domain/device.entity.js';
import { LinkCodeSchema } from './domain/link-code.entity.js';
import { PasswordResetTokenSchema } from './domain/password-reset-token.entity.js';
import { PublishedSigningKeySchema } from './domain/published-signing-key.entity.js';
import { RefreshTokenSchema } from './domain/refresh-token.entity.js';
import { SessionSchema } from './domain/session.entity.js';
import { SpentChallengeSchema } from './domain/spent-challenge.entity.js';
import { UserSchema } from './domain/user.entity.js';
import { migrations } from './migrations/index.js';

export const database: DatabaseSpec = {
  entities: [
    UserSchema,
    DeviceSchema,
    SessionSchema,
    RefreshTokenSchema,
    PasswordResetTokenSchema,
    LinkCodeSchema,
    ContactRequestSchema,
    ContactSchema,
    BlockSchema,
    RateLimitBucketSchema,
    SanctionStandingSchema,
    PublishedSigningKeySchema,
    SpentChallengeSchema,
  ],
  migrations,
};
