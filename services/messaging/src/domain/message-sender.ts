import { randomUUID } from 'node:crypto';
import { create, toBinary } from '@bufbuild/protobuf';
import { timestampFromDate } from '@bufbuild/protobuf/wkt';
import { Code, ConnectError } from '@connectrpc/connect';
import { Batcher, SQL_STATE, rpcError, sqlState, traceparentNow, tracingEnabled, type Caller, type Outbox, type RateLimiter, type SqlPool } from '@parley/platform';
import { DeliverySchema, EnvelopeSchema, type Envelope, type ReportingTag } from '@parley/proto';
import type { LiveSignals } from '../events/live-signals.js';
import { messageSentEvent } from '../events/message-sent.js';
import type { QueuedDelivery } from './delivery-queue.js';
import { refusedMessaging } from './may-message.js';
import { notAMember } from './membership.js';
import { requireMatchingDevices, type ExpectedDevice, type ValidEnvelope } from './outgoing-envelopes.js';
import type { ReportingTagger } from './reporting-tags.js';

export interface SendRequest {
  caller: Caller;
  conversationId: string;
  clientMessageId: string;
  envelopes: ValidEnvelope[];
  /** The sender's trace, set by `send`: its deliveries' signals carry it, whichever batch stored them. */
  traceparent?: string | null;
  /** The sender's franking commitment (32 bytes), or empty for an unfranked message. */
  frankingCommitment: Uint8Array;
}

export interface SentMessage {
  /** Empty for an ephemeral send. */
  messageId: string;
  /** 0 for an ephemeral send. */
  seq: number;
  sentAt: Date;
  duplicate: boolean;
}

export interface MessageSenderOptions {
  messageTtlSeconds: number;
  /** Send transactions running at once. */
  concurrency: number;
  /** Most sends one transaction takes. */
  maxBatch: number;
  /** Per sending user, stored and ephemeral sends alike: taken in the statement that stores or checks them. */
  sendsPerSender: RateLimiter;
  /** The most undelivered items and bytes one device's queue may hold. */
  queueQuota: { maxDeliveries: number; maxBytes: number };
  /** Tags the envelopes of franked messages. */
  reportingTags: ReportingTagger;
  /** Where send_messages' messaging.message.sent events come from (ids, subject, envelope heads). */
  outbox: Outbox;
}

/** What a send refused for a full queue tells its sender to wait: the queue empties only as its device reads it. */
export const QUEUE_FULL_RETRY_SECONDS = 60;

/**
 * The database function that stores a batch of sends (see the migrations that made it), with the
 * senders' rate-limit take ($1…$6) in the same statement: p_allowed says whose take succeeded.
 */
function sendStatement(limiter: RateLimiter) {
  const take = limiter.takeStatement([], []);
  return {
    name: 'send_messages',
    text: `with take as (${take.text})
      select * from send_messages($7, $8, $9, $10, $11, $12, $13, $14, $15, $16, $17, $18,
        array(select s.sender::text = any(array(select subject from take)) from unnest($8::uuid[]) with ordinality s(sender, n) order by s.n),
        $19, $20, $21, $22, $23, $24, $25)`,
  };
}

interface SendRow {
  ord: number;
  status: 'sent' | 'duplicate' | 'used_elsewhere' | 'limited' | 'not_member' | 'refused' | 'mismatch' | 'queue_full';
  message_id: string | null;
  seq: string | null;
  sent_at: Date | null;
  delivery_ids: string[] | null;
  delivery_users: string[] | null;
  delivery_devices: number[] | null;
  delivery_queue_seqs: string[] | null;
}

/** What an ephemeral send, or the explanation of a refused send, is decided on: one row. */
const TARGETS = {
  name: 'send_targets',
  text: `select c.kind,
      exists (select 1 from conversation_member m where m.conversation_id = c.id and m.user_id = $2) as member,
      c.kind = 'direct' and exists (select 1 from conversation_member m
                                    where m.conversation_id = c.id and m.user_id <> $2 and refuses_sender(m.user_id, $2)) as refused,
      array(select json_build_array(d.user_id, d.device_id, d.registration_id)::text from conversation_devices(c.id, $2, $3) d) as devices,
      array(select b.blocker_id from block_projection b join conversation_member m on m.user_id = b.blocker_id and m.conversation_id = c.id
            where b.active and b.blocked_id = $2 and b.blocker_id <> $2) as blocking
    from conversation c where c.id = $1`,
};

/** TARGETS with the sender's rate-limit take ($4…$9) in the same statement. */
function ephemeralTargetsStatement(limiter: RateLimiter) {
  const take = limiter.takeStatement([], [], 4);
  return { name: 'ephemeral_send_targets', text: `with take as (${take.text}) select exists (select 1 from take) as allowed, t.* from (${TARGETS.text}) t` };
}

interface TargetsRow {
  allowed?: boolean;
  kind: 'direct' | 'group';
  member: boolean;
  refused: boolean;
  devices: string[];
  blocking: string[];
}

/**
 * Stores sends and queues their envelopes: a batch per call of send_messages, one statement and
 * so one round trip and one transaction (group commit: while one runs, the sends that arrive wait
 * and go together in the next). Each send is answered only after its transaction committed, and
 * its deliveries are then signalled, each whole, to its device's stream.
 */
export class MessageSender {
  private readonly batcher: Batcher<SendRequest, SentMessage>;
  private readonly statements: { send: { name: string; text: string }; ephemeral: { name: string; text: string } };

  constructor(
    private readonly sql: SqlPool,
    private readonly live: LiveSignals,
    private readonly opts: MessageSenderOptions,
  ) {
    this.batcher = new Batcher((requests) => this.storeBatch(requests), { maxBatch: opts.maxBatch, concurrency: opts.concurrency });
    this.statements = { send: sendStatement(opts.sendsPerSender), ephemeral: ephemeralTargetsStatement(opts.sendsPerSender) };
  }

  send(request: SendRequest): Promise<SentMessage> {
    return this.batcher.submit(tracingEnabled ? { ...request, traceparent: traceparentNow() } : request);
  }

  /**
   * The envelopes a send goes to, checked as send_messages checks them (membership, privacy, the
   * exact device set), without locking or storing anything: for an ephemeral send, and to say
   * precisely why send_messages refused one. In a group, members who blocked the sender need an
   * envelope (so the sender can't tell) but don't get it.
   */
  async targets(request: Omit<SendRequest, 'clientMessageId' | 'frankingCommitment'>): Promise<ValidEnvelope[]> {
    const [row] = await this.sql.query<TargetsRow>(TARGETS, [request.conversationId, request.caller.userId, request.caller.deviceId]);
    return this.checkedTargets(request, row);
  }

  /** targets() for an ephemeral send, which also takes from the sender's rate limit in the same statement. */
  async ephemeralTargets(request: Omit<SendRequest, 'clientMessageId' | 'frankingCommitment'>): Promise<ValidEnvelope[]> {
    const { caller } = request;
    const take = this.opts.sendsPerSender.takeStatement([caller.userId], [1], 4);
    const [row] = await this.sql.query<TargetsRow>(this.statements.ephemeral, [request.conversationId, caller.userId, caller.deviceId, ...take.values]);
    if (row && !row.allowed) throw await this.senderLimited(caller.userId);
    return this.checkedTargets(request, row);
  }

  private checkedTargets(request: Omit<SendRequest, 'clientMessageId' | 'frankingCommitment'>, row: TargetsRow | undefined): ValidEnvelope[] {
    if (!row?.member) throw notAMember(request.conversationId);
    if (row.refused) throw refusedMessaging();
    const expected = row.devices.map((json): ExpectedDevice => {
      const [userId, deviceId, registrationId] = JSON.parse(json) as [string, number, number];
      return { userId, deviceId, registrationId };
    });
    requireMatchingDevices(expected, request.envelopes);
    const blocking = new Set(row.blocking);
    return request.envelopes.filter((e) => !blocking.has(e.userId));
  }

  private async storeBatch(requests: SendRequest[]): Promise<(SentMessage | Error)[]> {
    const sentAt = new Date();
    const expiresAt = new Date(sentAt.getTime() + this.opts.messageTtlSeconds * 1000);
    const messageIds = requests.map(() => randomUUID());
    const envelopes = requests.map((request, i) =>
      request.envelopes.map((e) =>
        envelopeOf(request, e, { messageId: messageIds[i]!, seq: 0n, ephemeral: false, reportingTag: this.reportingTag(request, e, messageIds[i]!, sentAt) }),
      ),
    );
    const sentEvents = requests.map((request, i) => messageSentEvent(this.opts.outbox, request, messageIds[i]!, sentAt));
    const items = requests.flatMap((request, i) => request.envelopes.map((e, k) => ({ e, stored: envelopes[i]![k]! })));
    const perSender = countBy(requests, (r) => r.caller.userId);
    const take = this.opts.sendsPerSender.takeStatement([...perSender.keys()], [...perSender.values()]);
    const params = [
      ...take.values,
      requests.map((r) => r.conversationId),
      requests.map((r) => r.caller.userId),
      requests.map((r) => r.caller.deviceId),
      requests.map((r) => r.clientMessageId),
      messageIds,
      requests.map((r) => r.envelopes.length),
      items.map((x) => x.e.userId),
      items.map((x) => x.e.deviceId),
      items.map((x) => x.e.registrationId),
      // Stored without the message's seq, which send_messages gives; a reader of the queue adds it.
      items.map((x) => deliveryBody(sentAt, x.stored)),
      sentAt,
      expiresAt,
      this.opts.queueQuota.maxDeliveries,
      this.opts.queueQuota.maxBytes,
      sentEvents.map((x) => x.id),
      sentEvents.map((x) => x.head),
      sentEvents.map((x) => x.body),
      sentEvents[0]?.subject ?? '',
      sentEvents[0]?.typeUrl ?? '',
    ];
    // A concurrent send with the same client_message_id, or a deadlock with a consumer, fails the
    // whole statement: run it again, and the earlier send is then seen and answered.
    let rows: SendRow[];
    for (let attempt = 1; ; attempt++) {
      try {
        rows = await this.sql.query<SendRow>(this.statements.send, params);
        break;
      } catch (err) {
        const retryable = sqlState(err) === SQL_STATE.uniqueViolation || sqlState(err) === SQL_STATE.deadlockDetected;
        if (!retryable || attempt === 3) throw err;
      }
    }
    const queued: QueuedDelivery[] = [];
    // A sender with several sends here paid for all of them at once, all or nothing: refused, they
    // are tried again one by one (once this batch's deliveries are signalled), as sends one after
    // another would have been.
    const retryAlone: number[] = [];
    const outcomes = await Promise.all(
      rows.map(async (row): Promise<SentMessage | Error | null> => {
        const request = requests[row.ord - 1]!;
        switch (row.status) {
          case 'sent':
            queued.push(...signalsOf(row, sentAt, envelopes[row.ord - 1]!, request));
            return { messageId: row.message_id!, seq: Number(row.seq), sentAt: row.sent_at!, duplicate: false };
          case 'duplicate':
            return { messageId: row.message_id!, seq: Number(row.seq), sentAt: row.sent_at!, duplicate: true };
          case 'limited':
            if (perSender.get(request.caller.userId)! > 1) {
              retryAlone.push(row.ord - 1);
              return null;
            }
            return this.senderLimited(request.caller.userId);
          case 'queue_full':
            return rpcError.resourceExhausted(
              `the queue of device ${row.delivery_devices![0]} of user ${row.delivery_users![0]} is full of undelivered messages; retry in ${QUEUE_FULL_RETRY_SECONDS} s`,
            );
          case 'used_elsewhere':
            return rpcError.alreadyExists(`client_message_id ${request.clientMessageId} was already used for another conversation; choose a new one`);
          case 'not_member':
            return notAMember(request.conversationId);
          case 'refused':
            return refusedMessaging();
          case 'mismatch':
            return this.whyMismatched(request);
        }
      }),
    );
    this.live.delivered(queued);
    if (rows.some((row) => row.status === 'sent')) this.opts.outbox.wake();
    for (const i of retryAlone) outcomes[i] = (await this.storeBatch([requests[i]!]))[0]!;
    // The takes above ran inside send_messages' statement; refilled buckets (of every limit) are swept now and then here.
    await this.opts.sendsPerSender.pruneNowAndThen();
    return outcomes as (SentMessage | Error)[];
  }

  /** The envelope's reporting tag if the sender franked the message; an unfranked send costs nothing here. */
  private reportingTag(request: SendRequest, e: ValidEnvelope, messageId: string, sentAt: Date): ReportingTag | undefined {
    if (request.frankingCommitment.length === 0) return undefined;
    return this.opts.reportingTags.tag(request.frankingCommitment, {
      senderUserId: request.caller.userId,
      senderDeviceId: request.caller.deviceId,
      recipientUserId: e.userId,
      recipientDeviceId: e.deviceId,
      conversationId: request.conversationId,
      messageId,
      serverTime: sentAt,
    });
  }

  private async senderLimited(userId: string): Promise<Error> {
    const seconds = await this.opts.sendsPerSender.retryAfterSeconds(userId);
    return rpcError.resourceExhausted(`too many messages sent; retry in ${seconds} s`);
  }

  /** The DeviceMismatch detail of a refused send, read again; if the devices changed back meanwhile, a retry will pass. */
  private async whyMismatched(request: SendRequest): Promise<Error> {
    try {
      await this.targets(request);
    } catch (err) {
      return err as Error;
    }
    return new ConnectError("the conversation's devices changed while sending; send again", Code.Aborted);
  }
}

function countBy<T>(items: readonly T[], key: (item: T) => string): Map<string, number> {
  const counts = new Map<string, number>();
  for (const item of items) counts.set(key(item), (counts.get(key(item)) ?? 0) + 1);
  return counts;
}

/** The deliveries send_messages queued for one send, each carried whole by its signal, the seq now in it. */
function signalsOf(row: SendRow, sentAt: Date, envelopes: Envelope[], request: SendRequest): QueuedDelivery[] {
  const byDevice = new Map(envelopes.map((e, k) => [`${request.envelopes[k]!.userId}.${request.envelopes[k]!.deviceId}`, e]));
  return (row.delivery_ids ?? []).map((id, j) => {
    const userId = row.delivery_users![j]!;
    const deviceId = row.delivery_devices![j]!;
    const envelope = byDevice.get(`${userId}.${deviceId}`)!;
    return {
      userId,
      deviceId,
      id: BigInt(id),
      queueSeq: BigInt(row.delivery_queue_seqs![j]!),
      body: deliveryBody(sentAt, { ...envelope, seq: BigInt(row.seq!) }),
      traceparent: request.traceparent,
    };
  });
}

function deliveryBody(sentAt: Date, envelope: Envelope): Uint8Array {
  return toBinary(DeliverySchema, create(DeliverySchema, { serverTime: timestampFromDate(sentAt), payload: { case: 'envelope', value: envelope } }));
}

export function envelopeOf(
  request: Pick<SendRequest, 'caller' | 'conversationId'>,
  e: ValidEnvelope,
  message: { messageId: string; seq: bigint; ephemeral: boolean; reportingTag?: ReportingTag },
): Envelope {
  const { caller, conversationId } = request;
  return create(EnvelopeSchema, { conversationId, senderUserId: caller.userId, senderDeviceId: caller.deviceId, type: e.type, ciphertext: e.ciphertext, ...message });
}
