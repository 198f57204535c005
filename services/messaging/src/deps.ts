import { parseFrankingKeyring } from '@parley/crypto';
import { SanctionStandings, type ConfigOf, type Logger, type MikroORM, type Outbox, type ServiceContext, type SqlPool } from '@parley/platform';
import type { messagingConfigSchema } from './config.js';
import { AckQueue } from './domain/ack-deliveries.usecase.js';
import { MessageSender } from './domain/message-sender.js';
import { queueMetrics } from './domain/queue-metrics.js';
import { messagingRateLimits, type MessagingRateLimits } from './domain/rate-limits.js';
import { ReportingTagger } from './domain/reporting-tags.js';
import { LiveSignals } from './events/live-signals.js';

/** What messaging's routes, consumers, use cases and sweeper are built from: made once, in `init`. */
export interface MessagingDeps {
  orm: MikroORM;
  /** Plain SQL for the message path: send, fetch, ack. */
  sql: SqlPool;
  log: Logger;
  /** Publishes messaging.conversation_members.changed with the change that caused it, and (through send_messages) messaging.message.sent. */
  outbox: Outbox;
  live: LiveSignals;
  /** Stores sends, a batch per transaction. */
  sender: MessageSender;
  /** Deletes acked deliveries, a batch per statement. */
  acks: AckQueue;
  rateLimits: MessagingRateLimits;
  /** Users' standings from moderation.sanction.changed: restrictions and bans refuse sends and new conversations. */
  sanctions: SanctionStandings;
  settings: MessagingSettings;
}

/**
 * Send transactions and ack deletes running at once: few, so each takes what arrived during the
 * last (group commit); the rest of DATABASE_POOL_MAX serves everything else.
 */
const SEND_CONCURRENCY = 2;
const SEND_BATCH_MAX = 64;
const ACK_CONCURRENCY = 1;

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

export async function buildMessagingDeps({ orm, sql, log, metrics, outbox, nats, subjects, config }: ServiceContext<ConfigOf<typeof messagingConfigSchema>>): Promise<MessagingDeps> {
  const reportingTags = new ReportingTagger(frankingKeyring(config));
  const live = new LiveSignals(nats, subjects);
  // Signals this process published just before it last stopped may be lost: streams refetch.
  live.resync();
  queueMetrics(metrics, sql);
  const rateLimits = messagingRateLimits(orm, config);
  const sender = new MessageSender(sql, live, {
    messageTtlSeconds: config.MESSAGE_TTL_SECONDS,
    concurrency: SEND_CONCURRENCY,
    maxBatch: SEND_BATCH_MAX,
    sendsPerSender: rateLimits.sendsPerSender,
    queueQuota: { maxDeliveries: config.QUEUE_MAX_DELIVERIES, maxBytes: config.QUEUE_MAX_BYTES },
    reportingTags,
    outbox,
  });
  return {
    orm,
    sql,
    log,
    outbox,
    live,
    sender,
    acks: new AckQueue(sql, live, ACK_CONCURRENCY),
    rateLimits,
    sanctions: new SanctionStandings(sql),
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

/** FRANKING_KEYS and FRANKING_ACTIVE_KEY_ID as a keyring, or a start-up error saying what is wrong with them. */
function frankingKeyring(config: Pick<ConfigOf<typeof messagingConfigSchema>, 'FRANKING_KEYS' | 'FRANKING_ACTIVE_KEY_ID'>) {
  try {
    return parseFrankingKeyring(config.FRANKING_KEYS, config.FRANKING_ACTIVE_KEY_ID);
  } catch (err) {
    throw new Error(`FRANKING_KEYS / FRANKING_ACTIVE_KEY_ID: ${(err as Error).message}`, { cause: err });
  }
}
