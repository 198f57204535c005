import { join } from 'node:path';
import { env } from '@parley/platform';

export const moderationConfigSchema = {
  /** The server franking keys, "id:base64,id:base64" (each at least 32 bytes): the same Secret messaging tags with. */
  FRANKING_KEYS: env.string({ describe: 'franking keys as id:base64,id:base64' }),
  /** The key messaging makes new tags with; moderation verifies tags of any listed key. */
  FRANKING_ACTIVE_KEY_ID: env.string(),
  /** A user id made admin at start-up while no admin exists: how the first admin comes to be. */
  MODERATION_FIRST_ADMIN_USER_ID: env.string({ default: '', minLength: 0 }),
  /** Reports a user may file per hour (a token bucket of this size, refilled over an hour). */
  MODERATION_REPORTS_PER_HOUR: env.int({ min: 1, max: 100000, default: 20 }),
  /** The auto-moderation rules: one JSON file operators read and change (see auto-moderation.json). */
  AUTO_MODERATION_RULES_FILE: env.string({ default: join(__dirname, '..', 'auto-moderation.json') }),
  /** How often expired sanctions are ended and their expiry published. */
  SANCTION_SWEEP_SECONDS: env.int({ min: 1, max: 3600, default: 5 }),
};
