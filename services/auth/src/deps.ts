import { SanctionStandings, systemClock, type ConfigOf, type Logger, type MikroORM, type Outbox, type ServiceContext } from '@parley/platform';
import type { authConfigSchema } from './config.js';
import { MeReader } from './domain/get-me.usecase.js';
import { PasswordHasher } from './domain/password-hasher.js';
import { authRateLimits, type AuthRateLimits } from './domain/rate-limits.js';
import { RegistrationChallenges } from './domain/registration-challenges.js';
import { publishSigningKeyRemovals } from './domain/signing-key-removals.js';
import { TokenIssuer } from './domain/token-issuer.js';

/** What auth's routes, use cases and token verifier are built from: made once, in `init`. */
export interface AuthDeps {
  orm: MikroORM;
  outbox: Outbox;
  log: Logger;
  issuer: TokenIssuer;
  passwords: PasswordHasher;
  /** GetMe's reads, batched, in plain SQL. */
  me: MeReader;
  rateLimits: AuthRateLimits;
  /** Users' standings from moderation.sanction.changed: bans refuse sessions, restrictions contact requests. */
  sanctions: SanctionStandings;
  /** Register's optional proof of work. */
  challenges: RegistrationChallenges;
  settings: AuthSettings;
}

export interface AuthSettings {
  refreshTtlSeconds: number;
  passwordResetTtlSeconds: number;
  maxDevicesPerAccount: number;
  linkCodeTtlSeconds: number;
  /** Logs password reset tokens, for development without a mailer. */
  devMode: boolean;
}

export async function buildAuthDeps({ orm, sql, outbox, log, config }: ServiceContext<ConfigOf<typeof authConfigSchema>>): Promise<AuthDeps> {
  const issuer = await TokenIssuer.fromJwk(config.AUTH_SIGNING_KEY, config.ACCESS_TOKEN_TTL_SECONDS, config.AUTH_PREVIOUS_SIGNING_KEYS);
  const removed = await publishSigningKeyRemovals(orm, outbox, issuer.jwks.map((k) => k.kid));
  if (removed.length > 0) log.info({ kids: removed }, 'signing keys removed from the JWKS: announced, so verifiers drop them at once');
  return {
    orm,
    outbox,
    log,
    issuer,
    passwords: new PasswordHasher(config.BCRYPT_COST, config.UV_THREADPOOL_SIZE),
    me: new MeReader(sql),
    rateLimits: authRateLimits(orm, config),
    sanctions: new SanctionStandings(sql),
    challenges: RegistrationChallenges.fromSigningKey(
      config.AUTH_SIGNING_KEY,
      { enabled: config.REGISTRATION_POW, difficultyBits: config.REGISTRATION_POW_DIFFICULTY, ttlSeconds: config.REGISTRATION_CHALLENGE_TTL_SECONDS },
      systemClock,
    ),
    settings: {
      refreshTtlSeconds: config.REFRESH_TOKEN_TTL_SECONDS,
      passwordResetTtlSeconds: config.PASSWORD_RESET_TTL_SECONDS,
      maxDevicesPerAccount: config.MAX_DEVICES_PER_ACCOUNT,
      linkCodeTtlSeconds: config.LINK_CODE_TTL_SECONDS,
      devMode: config.AUTH_DEV_MODE,
    },
  };
}
