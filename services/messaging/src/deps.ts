import type { ConfigOf, Logger, MikroORM, ServiceContext } from '@parley/platform';
import type { messagingConfigSchema } from './config.js';
import { LiveSignals } from './events/live-signals.js';

/** What messaging's routes, consumers, use cases and sweeper are built from: made once, in `init`. */
export interface MessagingDeps {
  orm: MikroORM;
  log: Logger;
  live: LiveSignals;
  settings: MessagingSettings;
}

/** The settings the use cases read; see config.ts for what each variable means. */
export interface MessagingSettings {
  messageTtlSeconds: number;
  envelopeMaxBytes: number;
  messageMaxBytes: number;
  groupMaxMembers: number;
  retractWindowSeconds: number;
  storageMaxItems: number;
  storageMaxItemBytes: number;
  expirySweepSeconds: number;
}

export async function buildMessagingDeps({ orm, log, nats, subjects, config }: ServiceContext<ConfigOf<typeof messagingConfigSchema>>): Promise<MessagingDeps> {
  const live = new LiveSignals(nats, subjects);
  // Signals this process published just before it last stopped may be lost: streams refetch.
  live.resync();
  return {
    orm,
    log,
    live,
    settings: {
      messageTtlSeconds: config.MESSAGE_TTL_SECONDS,
      envelopeMaxBytes: config.ENVELOPE_MAX_BYTES,
      messageMaxBytes: config.MESSAGE_MAX_BYTES,
      groupMaxMembers: config.GROUP_MAX_MEMBERS,
      retractWindowSeconds: config.RETRACT_WINDOW_SECONDS,
      storageMaxItems: config.STORAGE_MAX_ITEMS,
      storageMaxItemBytes: config.STORAGE_MAX_ITEM_BYTES,
      expirySweepSeconds: config.EXPIRY_SWEEP_SECONDS,
    },
  };
}
