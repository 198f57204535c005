import { randomUUID } from 'node:crypto';
import { create } from '@bufbuild/protobuf';
import { Batcher, SQL_STATE, rpcError, sqlState, type Caller, type SqlPool, type SqlRunner } from '@parley/platform';
import { EnvelopeSchema, type Envelope } from '@parley/proto';
import type { LiveSignals } from '../events/live-signals.js';
import { enqueue, type NewDelivery, type QueuedDelivery } from './delivery-queue.js';
import { refusedMessaging, refusesSender } from './may-message.js';
import { notAMember } from './membership.js';
import { deviceKey } from './message.entity.js';
import { requireMatchingDevices, type ExpectedDevice, type ValidEnvelope } from './outgoing-envelopes.js';

export interface SendRequest {
  caller: Caller;
  conversationId: string;
  clientMessageId: string;
  envelopes: ValidEnvelope[];
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
}

/** What the database says about one send, a row per member device (or per member without one). */
interface SendRow {
  ord: string;
  kind: 'direct' | 'group' | null;
  last_seq: string | null;
  earlier_id: string | null;
  earlier_conversation_id: string | null;
  earlier_seq: string | null;
  earlier_sent_at: Date | null;
  member_id: string | null;
  device_id: number | null;
  registration_id: number | null;
  blocks_sender: boolean | null;
  refuses_sender: boolean | null;
}

/**
 * Everything a batch of sends is decided on, read in one statement. With `lock`, the batch's
 * conversations are locked first, in id order (two batches can't deadlock, and each
 * conversation's members and seq hold until commit). Per send: the earlier send with its
 * client_message_id, if any; then each member, each of the member's active devices except the
 * sending one, whether the member blocked the sender, and whether they refuse the sender (asked
 * only of a direct conversation).
 */
function decideStatement(lock: boolean) {
  return {
    name: lock ? 'decide_sends_locked' : 'decide_sends',
    text: `with item as (
        select * from unnest($1::uuid[], $2::uuid[], $3::smallint[], $4::text[]) with ordinality as t(conversation_id, sender_id, sender_device_id, client_message_id, ord)
      ),
      conv as materialized (
        select c.id, c.kind, c.last_seq from conversation c where c.id in (select conversation_id from item)
        order by c.id ${lock ? 'for update' : ''}
      )
      select i.ord::text, c.kind, c.last_seq::text,
        e.id as earlier_id, e.conversation_id as earlier_conversation_id, e.seq::text as earlier_seq, e.sent_at as earlier_sent_at,
        m.user_id as member_id, d.device_id, d.registration_id,
        m.user_id <> i.sender_id and exists (select 1 from block_projection b where b.active and b.blocker_id = m.user_id and b.blocked_id = i.sender_id) as blocks_sender,
        c.kind = 'direct' and m.user_id <> i.sender_id and ${refusesSender('m.user_id', 'i.sender_id')} as refuses_sender
      from item i
      left join conv c on c.id = i.conversation_id
      left join lateral (select id, conversation_id, seq, sent_at from message where sender_user_id = i.sender_id and client_message_id = i.client_message_id) e on true
      left join conversation_member m on m.conversation_id = c.id
      left join device_projection d on d.user_id = m.user_id and d.active and not (d.user_id = i.sender_id and d.device_id = i.sender_device_id)
      order by i.ord`,
  };
}

const DECIDE_LOCKED = decideStatement(true);
const DECIDE = decideStatement(false);

const STORE = {
  name: 'store_messages',
  text: `with stored as (
      insert into message (id, conversation_id, seq, sender_user_id, sender_device_id, client_message_id, sent_at, expires_at, recipients)
      select id, conversation_id, seq, sender_user_id, sender_device_id, client_message_id, $8, $9, string_to_array(recipients, ' ')
      from unnest($1::uuid[], $2::uuid[], $3::bigint[], $4::uuid[], $5::smallint[], $6::text[], $7::text[])
        as t(id, conversation_id, seq, sender_user_id, sender_device_id, client_message_id, recipients)
    )
    update conversation c set last_seq = t.last_seq, last_activity_at = $8
    from unnest($10::uuid[], $11::bigint[]) as t(id, last_seq) where c.id = t.id`,
};

/** A send the checks passed: what to store, queue and answer. */
interface Accepted {
  request: SendRequest;
  messageId: string;
  seq: number;
  targets: ValidEnvelope[];
}

/**
 * Stores sends and queues their envelopes, a batch per transaction (group commit): while one
 * runs, the sends that arrive wait and go together in the next. A batch is five round trips
 * however many sends it holds. Each send is answered only after its transaction committed.
 */
export class MessageSender {
  private readonly batcher: Batcher<SendRequest, SentMessage>;

  constructor(
    private readonly sql: SqlPool,
    private readonly live: LiveSignals,
    private readonly opts: MessageSenderOptions,
  ) {
    this.batcher = new Batcher((requests) => this.storeBatch(requests), { maxBatch: opts.maxBatch, concurrency: opts.concurrency });
  }

  send(request: SendRequest): Promise<SentMessage> {
    return this.batcher.submit(request);
  }

  /**
   * The envelopes an ephemeral send goes to, checked like a stored send (membership, privacy,
   * the exact device set) without locking or storing anything.
   */
  async ephemeralTargets(request: Omit<SendRequest, 'clientMessageId'>): Promise<ValidEnvelope[]> {
    const rows = await this.sql.query<SendRow>(DECIDE, [[request.conversationId], [request.caller.userId], [request.caller.deviceId], ['']]);
    return targetsOf(request, rows);
  }

  private async storeBatch(requests: SendRequest[]): Promise<(SentMessage | Error)[]> {
    // A concurrent send with the same client_message_id, or a deadlock with a consumer, fails the
    // whole transaction: run it again, and the earlier send is then seen and answered.
    for (let attempt = 1; ; attempt++) {
      try {
        const { outcomes, queued } = await this.sql.transaction((tx) => this.decideAndStore(tx, requests));
        this.live.delivered(queued);
        return outcomes;
      } catch (err) {
        const retryable = sqlState(err) === SQL_STATE.uniqueViolation || sqlState(err) === SQL_STATE.deadlockDetected;
        if (!retryable || attempt === 3) throw err;
      }
    }
  }

  private async decideAndStore(tx: SqlRunner, requests: SendRequest[]): Promise<{ outcomes: (SentMessage | Error)[]; queued: QueuedDelivery[] }> {
    const rows = await tx.query<SendRow>(DECIDE_LOCKED, [
      requests.map((r) => r.conversationId),
      requests.map((r) => r.caller.userId),
      requests.map((r) => r.caller.deviceId),
      requests.map((r) => r.clientMessageId),
    ]);
    const rowsOf = groupByItem(rows, requests.length);
    const lastSeq = new Map<string, number>();
    const firstWithKey = new Map<string, number>();
    const accepted: Accepted[] = [];
    const sentAt = new Date();
    const outcomes: (SentMessage | Error)[] = [];
    const decide = (request: SendRequest, i: number): SentMessage | Error => {
      const mine = rowsOf[i]!;
      const [head] = mine;
      if (head?.earlier_id) {
        if (head.earlier_conversation_id !== request.conversationId) return alreadyUsed(request.clientMessageId);
        return { messageId: head.earlier_id, seq: Number(head.earlier_seq), sentAt: new Date(head.earlier_sent_at!), duplicate: true };
      }
      // The same send twice in one batch (a client retrying fast): the second is the first's retry.
      const key = `${request.caller.userId} ${request.clientMessageId}`;
      const first = firstWithKey.get(key);
      if (first !== undefined) {
        return requests[first]!.conversationId === request.conversationId ? { ...(outcomes[first] as SentMessage), duplicate: true } : alreadyUsed(request.clientMessageId);
      }
      let targets: ValidEnvelope[];
      try {
        targets = targetsOf(request, mine);
      } catch (err) {
        return err as Error;
      }
      firstWithKey.set(key, i);
      const seq = (lastSeq.get(request.conversationId) ?? Number(head!.last_seq)) + 1;
      lastSeq.set(request.conversationId, seq);
      const messageId = randomUUID();
      accepted.push({ request, messageId, seq, targets });
      return { messageId, seq, sentAt, duplicate: false };
    };
    requests.forEach((request, i) => outcomes.push(decide(request, i)));
    if (accepted.length === 0) return { outcomes, queued: [] };
    const expiresAt = new Date(sentAt.getTime() + this.opts.messageTtlSeconds * 1000);
    await tx.query(STORE, [
      accepted.map((a) => a.messageId),
      accepted.map((a) => a.request.conversationId),
      accepted.map((a) => a.seq),
      accepted.map((a) => a.request.caller.userId),
      accepted.map((a) => a.request.caller.deviceId),
      accepted.map((a) => a.request.clientMessageId),
      accepted.map((a) => a.targets.map((t) => deviceKey(t.userId, t.deviceId)).join(' ')),
      sentAt,
      expiresAt,
      [...lastSeq.keys()],
      [...lastSeq.values()],
    ]);
    const deliveries = accepted.flatMap(({ request, messageId, seq, targets }) =>
      targets.map(
        (e): NewDelivery => ({
          userId: e.userId,
          deviceId: e.deviceId,
          messageId,
          payload: { case: 'envelope', value: envelopeOf(request, e, { messageId, seq: BigInt(seq), ephemeral: false }) },
        }),
      ),
    );
    return { outcomes, queued: await enqueue(tx, deliveries, sentAt, expiresAt) };
  }
}

/**
 * The envelopes to deliver, once the sender may write here and the envelopes match the devices.
 * In a group, the envelopes of members who blocked the sender are required like any other (so a
 * sender can't detect a block) but silently not queued, and are left out of the message's
 * recipients: its delivery status lists only devices that were actually sent something.
 */
function targetsOf(request: Omit<SendRequest, 'clientMessageId'>, rows: SendRow[]): ValidEnvelope[] {
  if (!rows[0]?.kind || !rows.some((r) => r.member_id === request.caller.userId)) throw notAMember(request.conversationId);
  if (rows.some((r) => r.refuses_sender)) throw refusedMessaging();
  const expected = rows
    .filter((r) => r.device_id !== null)
    .map((r): ExpectedDevice => ({ userId: r.member_id!, deviceId: r.device_id!, registrationId: r.registration_id! }));
  requireMatchingDevices(expected, request.envelopes);
  const blockingSender = new Set(rows.filter((r) => r.blocks_sender).map((r) => r.member_id));
  return request.envelopes.filter((e) => !blockingSender.has(e.userId));
}

export function envelopeOf(request: Omit<SendRequest, 'clientMessageId'>, e: ValidEnvelope, message: { messageId: string; seq: bigint; ephemeral: boolean }): Envelope {
  const { caller, conversationId } = request;
  return create(EnvelopeSchema, { conversationId, senderUserId: caller.userId, senderDeviceId: caller.deviceId, type: e.type, ciphertext: e.ciphertext, ...message });
}

function groupByItem(rows: SendRow[], items: number): SendRow[][] {
  const grouped: SendRow[][] = Array.from({ length: items }, () => []);
  for (const row of rows) grouped[Number(row.ord) - 1]!.push(row);
  return grouped;
}

function alreadyUsed(clientMessageId: string): Error {
  return rpcError.alreadyExists(`client_message_id ${clientMessageId} was already used for another conversation; choose a new one`);
}
