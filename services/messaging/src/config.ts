import { env } from '@parley/platform';

const DAY = 86_400;

export const messagingConfigSchema = {
  /** How long an envelope or notice waits in a device's queue before it is dropped. */
  MESSAGE_TTL_SECONDS: env.int({ min: 60, max: 365 * DAY, default: 30 * DAY }),
  /** The largest ciphertext of one envelope. */
  ENVELOPE_MAX_BYTES: env.int({ min: 1024, max: 1024 * 1024, default: 96 * 1024 }),
  /** The largest total ciphertext of one send (all its envelopes). */
  MESSAGE_MAX_BYTES: env.int({ min: 64 * 1024, max: 64 * 1024 * 1024, default: 1024 * 1024 }),
  /** The most members a group may have. */
  GROUP_MAX_MEMBERS: env.int({ min: 2, max: 100_000, default: 1000 }),
  /** How long after sending a message its sender may still retract it. */
  RETRACT_WINDOW_SECONDS: env.int({ min: 60, max: 365 * DAY, default: DAY }),
  /** How often expired queue rows and messages are deleted. */
  EXPIRY_SWEEP_SECONDS: env.int({ min: 1, max: 3600, default: 60 }),
  /** Per-user encrypted storage: the most items, and the largest value of one. */
  STORAGE_MAX_ITEMS: env.int({ min: 1, max: 100_000, default: 1000 }),
  // eslint-disable-next-line no-restricted-syntax -- bytes of an item, not the delivery window
  STORAGE_MAX_ITEM_BYTES: env.int({ min: 256, max: 1024 * 1024, default: 64 * 1024 }),
};
