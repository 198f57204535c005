import { env } from '@parley/platform';

export const keysConfigSchema = {
  KEYS_LOG_SIGNING_KEY: env.string({
    describe: 'base64 of a 64-byte Ed25519 secret key (libsodium layout); make one with `npm run -w @parley/keys generate-log-key`',
  }),
  /** Most one-time prekeys of each kind (EC, Kyber) one upload may carry. */
  MAX_PRE_KEYS_PER_UPLOAD: env.int({ min: 1, max: 1000, default: 100 }),
  /** Most one-time prekeys of each kind a device may have stored. */
  MAX_STORED_PRE_KEYS: env.int({ min: 1, max: 100000, default: 1000 }),
  /** Below this many one-time EC or Kyber prekeys, a device is told once (keys.pre_keys.ran_low) to upload more. */
  PREKEY_LOW_WATER_MARK: env.int({ min: 0, max: 100000, default: 10 }),
  // A token bucket per (requester, target user): a burst of N claims, and one more every REFILL seconds.
  PREKEY_CLAIMS_PER_TARGET: env.int({ min: 1, max: 1000000, default: 100 }),
  PREKEY_CLAIMS_PER_TARGET_REFILL_SECONDS: env.int({ min: 1, max: 86400, default: 36 }),
  // Per requester across every target: what one account may drain of everyone's one-time prekeys.
  PREKEY_CLAIMS_PER_REQUESTER: env.int({ min: 1, max: 1000000, default: 1000 }),
  PREKEY_CLAIMS_PER_REQUESTER_REFILL_SECONDS: env.int({ min: 1, max: 86400, default: 30 }),
  // UploadKeys calls per account (each costs its signature checks).
  UPLOADS_PER_CALLER: env.int({ min: 1, max: 1000000, default: 30 }),
  UPLOADS_PER_CALLER_REFILL_SECONDS: env.int({ min: 1, max: 86400, default: 60 }),
  /** New identity keys per device per day: each is a permanent leaf of the identity log. */
  IDENTITY_KEY_CHANGES_PER_DEVICE_PER_DAY: env.int({ min: 1, max: 1000, default: 3 }),
  // GetConsistencyProof calls per account (each reads the whole log).
  CONSISTENCY_PROOFS_PER_CALLER: env.int({ min: 1, max: 1000000, default: 10 }),
  CONSISTENCY_PROOFS_PER_CALLER_REFILL_SECONDS: env.int({ min: 1, max: 86400, default: 6 }),
};
