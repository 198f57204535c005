import type { Client } from '@connectrpc/connect';
import { parseFrankingKeyring, type FrankingKeyring } from '@parley/crypto';
import { UUID_PATTERN, internalClient, systemClock, type Clock, type ConfigOf, type Logger, type MikroORM, type Outbox, type ServiceContext } from '@parley/platform';
import { ContactService } from '@parley/proto';
import type { moderationConfigSchema } from './config.js';
import { loadAutoModerationRules, type AutoModerationRules } from './domain/auto-moderation-rules.js';
import { moderationRateLimits, type ModerationRateLimits } from './domain/rate-limits.js';

/** What moderation's routes, consumers and sweeper are built from: made once, in `init`. */
export interface ModerationDeps {
  orm: MikroORM;
  log: Logger;
  outbox: Outbox;
  clock: Clock;
  rateLimits: ModerationRateLimits;
  /** The server franking keys reporting tags are verified with. */
  keyring: FrankingKeyring;
  rules: AutoModerationRules;
  /** Auth's ContactService, called on behalf of the caller (block-and-report). */
  contacts: Client<typeof ContactService>;
  settings: { firstAdminUserId: string; sweepIntervalMs: number };
}

type ModerationConfig = ConfigOf<typeof moderationConfigSchema>;

export async function buildModerationDeps({ orm, log, outbox, config }: ServiceContext<ModerationConfig>): Promise<ModerationDeps> {
  const firstAdmin = config.MODERATION_FIRST_ADMIN_USER_ID.trim().toLowerCase();
  if (firstAdmin && !UUID_PATTERN.test(firstAdmin)) {
    throw new Error(`MODERATION_FIRST_ADMIN_USER_ID must be a user id (a UUID), got "${firstAdmin}"`);
  }
  return {
    orm,
    log,
    outbox,
    clock: systemClock,
    rateLimits: moderationRateLimits(orm, config),
    keyring: parseFrankingKeyring(config.FRANKING_KEYS, config.FRANKING_ACTIVE_KEY_ID),
    rules: loadAutoModerationRules(config.AUTO_MODERATION_RULES_FILE),
    contacts: internalClient(ContactService, (config as unknown as { AUTH_URL: string }).AUTH_URL),
    settings: { firstAdminUserId: firstAdmin, sweepIntervalMs: config.SANCTION_SWEEP_SECONDS * 1000 },
  };
}
