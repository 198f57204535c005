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
  // SendMessage per sender, stored and ephemeral alike: a burst of N, then PER_MINUTE more each minute.
  SENDS_PER_SENDER: env.int({ min: 1, max: 1_000_000, default: 600 }),
  SENDS_PER_SENDER_PER_MINUTE: env.int({ min: 1, max: 6_000_000, default: 600 }),
  /** Each device queue's quota: the most undelivered items, and their most bytes; a send past it is refused. */
  QUEUE_MAX_DELIVERIES: env.int({ min: 1, max: 10_000_000, default: 10_000 }),
  QUEUE_MAX_BYTES: env.int({ min: 1024, max: 2 ** 40, default: 100 * 1024 * 1024 }),
  // CreateGroup and AddMembers calls per caller: a burst of N, then one more every REFILL seconds.
  GROUPS_CREATED_PER_CALLER: env.int({ min: 1, max: 1_000_000, default: 20 }),
  GROUPS_CREATED_PER_CALLER_REFILL_SECONDS: env.int({ min: 1, max: 86400, default: 180 }),
  MEMBER_ADDS_PER_CALLER: env.int({ min: 1, max: 1_000_000, default: 60 }),
  MEMBER_ADDS_PER_CALLER_REFILL_SECONDS: env.int({ min: 1, max: 86400, default: 60 }),
  // The server franking keys that tag franked messages' envelopes (moderation verifies with the same ones).
  FRANKING_KEYS: env.string({ describe: 'the server franking keys, "id:base64,id:base64", each at least 32 bytes' }),
  FRANKING_ACTIVE_KEY_ID: env.string({ describe: 'the id in FRANKING_KEYS that new reporting tags are made with' }),
};
