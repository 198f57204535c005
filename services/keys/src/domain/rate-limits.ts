import { RateLimiter, type ConfigOf, type MikroORM } from '@parley/platform';
import type { keysConfigSchema } from '../config.js';

const DAY_SECONDS = 86_400;

/** Every rate limit keys enforces, named once; sizes come from config (see config.ts for defaults). */
export interface KeysRateLimits {
  /** GetPreKeyBundles per (requester, target user). */
  claimsPerTarget: RateLimiter;
  /** GetPreKeyBundles per requester, whatever the target: Sybils drain victims only as fast as their accounts' budgets allow. */
  claimsPerRequester: RateLimiter;
  /** UploadKeys calls per account. */
  uploadsPerCaller: RateLimiter;
  /** Uploads with a new identity key per device (user:device), refilled over a day. */
  identityKeyChangesPerDevice: RateLimiter;
  /** GetConsistencyProof calls per account. */
  consistencyProofsPerCaller: RateLimiter;
}

export function keysRateLimits(orm: MikroORM, config: ConfigOf<typeof keysConfigSchema>): KeysRateLimits {
  const limit = (name: string, capacity: number, refillSeconds: number) => new RateLimiter(orm, { name, capacity, refillPerSecond: 1 / refillSeconds });
  const identityChanges = config.IDENTITY_KEY_CHANGES_PER_DEVICE_PER_DAY;
  return {
    claimsPerTarget: limit('prekey-claims-per-target', config.PREKEY_CLAIMS_PER_TARGET, config.PREKEY_CLAIMS_PER_TARGET_REFILL_SECONDS),
    claimsPerRequester: limit('prekey-claims-per-requester', config.PREKEY_CLAIMS_PER_REQUESTER, config.PREKEY_CLAIMS_PER_REQUESTER_REFILL_SECONDS),
    uploadsPerCaller: limit('uploads-per-caller', config.UPLOADS_PER_CALLER, config.UPLOADS_PER_CALLER_REFILL_SECONDS),
    identityKeyChangesPerDevice: limit('identity-key-changes-per-device', identityChanges, DAY_SECONDS / identityChanges),
    consistencyProofsPerCaller: limit('consistency-proofs-per-caller', config.CONSISTENCY_PROOFS_PER_CALLER, config.CONSISTENCY_PROOFS_PER_CALLER_REFILL_SECONDS),
  };
}
