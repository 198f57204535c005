import type { DatabaseSpec } from '@parley/platform';
import { RefreshTokenSchema } from './domain/refresh-token.entity.js';
import { SessionSchema } from './domain/session.entity.js';
import { UserSchema } from './domain/user.entity.js';
import { migrations } from './migrations/index.js';

export const database: DatabaseSpec = {
  entities: [UserSchema, SessionSchema, RefreshTokenSchema],
  migrations,
};
