import { env } from '@parley/platform';

export const authConfigSchema = {
  AUTH_SIGNING_KEY: env.string({
    describe: 'an Ed25519 private JWK as JSON; make one with `npm run -w @parley/auth generate-signing-key`',
  }),
  ACCESS_TOKEN_TTL_SECONDS: env.int({ min: 60, max: 3600, default: 900 }),
  REFRESH_TOKEN_TTL_SECONDS: env.int({ min: 3600, max: 400 * 86400, default: 30 * 86400 }),
  BCRYPT_COST: env.int({ min: 4, max: 15, default: 12 }),
  SEARCH_REQUESTS_PER_MINUTE: env.int({ min: 1, max: 6000, default: 30 }),
};
