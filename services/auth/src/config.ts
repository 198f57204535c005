import { MAX_DEVICE_ID, env } from '@parley/platform';

export const authConfigSchema = {
  AUTH_SIGNING_KEY: env.string({
    describe: 'an Ed25519 private JWK as JSON; make one with `npm run -w @parley/auth generate-signing-key`',
  }),
  AUTH_PREVIOUS_SIGNING_KEYS: env.string({
    describe: 'a JSON array of Ed25519 JWKs that signed tokens recently; only their public parts are published',
    default: '',
  }),
  ACCESS_TOKEN_TTL_SECONDS: env.int({ min: 60, max: 3600, default: 900 }),
  REFRESH_TOKEN_TTL_SECONDS: env.int({ min: 3600, max: 400 * 86400, default: 30 * 86400 }),
  BCRYPT_COST: env.int({ min: 4, max: 15, default: 12 }),
  /**
   * libuv's thread pool, which Node sizes from this variable itself at start-up; read here too so
   * bcrypt takes all but two of its threads. Raise it on bigger machines to hash more at once.
   */
  UV_THREADPOOL_SIZE: env.int({ min: 1, max: 1024, default: 4 }),
  /** An account can hold no more devices than libsignal has device ids (MAX_DEVICE_ID). */
  MAX_DEVICES_PER_ACCOUNT: env.int({ min: 1, max: MAX_DEVICE_ID, default: 10 }),
  LINK_CODE_TTL_SECONDS: env.int({ min: 60, max: 3600, default: 600 }),
  PASSWORD_RESET_TTL_SECONDS: env.int({ min: 60, max: 86400, default: 1800 }),
  AUTH_DEV_MODE: env.bool({ default: false }),
  // Each limit is a token bucket: a burst of N, and one more every REFILL seconds.
  LOGIN_FAILURES_PER_ACCOUNT: env.int({ min: 1, max: 1000, default: 10 }),
  LOGIN_FAILURES_PER_ACCOUNT_REFILL_SECONDS: env.int({ min: 1, max: 86400, default: 60 }),
  LOGIN_FAILURES_PER_ADDRESS: env.int({ min: 1, max: 100000, default: 100 }),
  LOGIN_FAILURES_PER_ADDRESS_REFILL_SECONDS: env.int({ min: 1, max: 86400, default: 6 }),
  PASSWORD_RESETS_PER_ACCOUNT: env.int({ min: 1, max: 1000, default: 3 }),
  PASSWORD_RESETS_PER_ACCOUNT_REFILL_SECONDS: env.int({ min: 1, max: 86400, default: 1200 }),
  PASSWORD_RESETS_PER_ADDRESS: env.int({ min: 1, max: 100000, default: 20 }),
  PASSWORD_RESETS_PER_ADDRESS_REFILL_SECONDS: env.int({ min: 1, max: 86400, default: 180 }),
  SEARCH_REQUESTS_PER_MINUTE: env.int({ min: 1, max: 6000, default: 30 }),
  // Accounts one address (an IPv6 /64) may register: 10 at once, then one every 6 minutes.
  REGISTRATIONS_PER_ADDRESS: env.int({ min: 1, max: 1_000_000, default: 10 }),
  REGISTRATIONS_PER_ADDRESS_REFILL_SECONDS: env.int({ min: 1, max: 86400, default: 360 }),
  /**
   * Register's proof of work, off by default: when on, Register needs a challenge from
   * GetRegistrationChallenge solved to DIFFICULTY leading zero bits (about 2^DIFFICULTY hashes).
   */
  REGISTRATION_POW: env.bool({ default: false }),
  REGISTRATION_POW_DIFFICULTY: env.int({ min: 1, max: 32, default: 20 }),
  REGISTRATION_CHALLENGE_TTL_SECONDS: env.int({ min: 30, max: 3600, default: 300 }),
  // Contact requests one account may send: 20 at once, then one every 5 minutes.
  CONTACT_REQUESTS_PER_CALLER: env.int({ min: 1, max: 1_000_000, default: 20 }),
  CONTACT_REQUESTS_PER_CALLER_REFILL_SECONDS: env.int({ min: 1, max: 86400, default: 300 }),
};
