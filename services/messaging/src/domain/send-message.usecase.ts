import { randomUUID } from 'node:crypto';
import { create } from '@bufbuild/protobuf';
import { timestampFromDate } from '@bufbuild/protobuf/wkt';
import { UniqueConstraintViolationException } from '@mikro-orm/core';
import type { EntityManager } from '@mikro-orm/postgresql';
import { requireUuid, rpcError, sqlRows, type Caller } from '@parley/platform';
import { DeliverySchema, EnvelopeSchema, type Envelope, type OutgoingEnvelope } from '@parley/proto';
import type { MessagingDeps } from '../deps.js';
import type { DeviceRef } from '../events/live-signals.js';
import type { Conversation } from './conversation.entity.js';
import { enqueue, type NewDelivery } from './delivery-queue.js';
import { requireMayMessage } from './may-message.js';
import { requireMember } from './membership.js';
import { deviceKey } from './message.entity.js';
import { requireClientMessageId, requireMatchingDevices, validEnvelopes, type ExpectedDevice, type ValidEnvelope } from './outgoing-envelopes.js';

export interface SendMessageInput {
  conversationId: string;
  clientMessageId: string;
  envelopes: OutgoingEnvelope[];
  ephemeral: boolean;
}

export interface SentMessage {
  /** Empty for an ephemeral send. */
  messageId: string;
  /** 0 for an ephemeral send. */
  seq: number;
  sentAt: Date;
  duplicate: boolean;
}

/**
 * Queues one envelope per device of the conversation: every active device of the other members
 * and the sender's own other devices. The envelope set must match those devices exactly, so a
 * conversation with no device to address (the sender alone in a group, on one device) takes zero
 * envelopes, and the message is still stored and given its seq, so seqs stay gapless.
 * A retry with the same client_message_id is answered from the first send.
 */
export async function sendMessage(deps: MessagingDeps, caller: Caller, input: SendMessageInput): Promise<SentMessage> {
  const conversationId = requireUuid(input.conversationId, 'conversation_id');
  const clientMessageId = requireClientMessageId(input.clientMessageId);
  const envelopes = validEnvelopes(input.envelopes, deps.settings);
  if (input.ephemeral) return sendEphemeral(deps, caller, conversationId, envelopes);

  const earlier = await earlierSend(deps.orm.em.fork(), caller.userId, clientMessageId, conversationId);
  if (earlier) return earlier;
  try {
    const { sent, queued } = await deps.orm.em.fork().transactional((em) => storeMessage(deps, em, caller, conversationId, clientMessageId, envelopes));
    deps.live.queued(queued);
    return sent;
  } catch (err) {
    // A concurrent send with the same client_message_id committed first: answer as its retry.
    if (!(err instanceof UniqueConstraintViolationException)) throw err;
    const first = await earlierSend(deps.orm.em.fork(), caller.userId, clientMessageId, conversationId);
    if (!first) throw err;
    return first;
  }
}

async function storeMessage(
  deps: MessagingDeps,
  em: EntityManager,
  caller: Caller,
  conversationId: string,
  clientMessageId: string,
  envelopes: ValidEnvelope[],
): Promise<{ sent: SentMessage; queued: DeviceRef[] }> {
  // The lock serializes sends to this conversation, so lastSeq + 1 is free and seqs have no gaps.
  const { conversation } = await requireMember(em, conversationId, caller.userId, { lock: true });
  const targets = await deliveryTargets(em, conversation, caller, envelopes);
  const messageId = randomUUID();
  const seq = conversation.lastSeq + 1;
  const sentAt = new Date();
  const expiresAt = new Date(sentAt.getTime() + deps.settings.messageTtlSeconds * 1000);
  // One round trip for both: the data-modifying CTE runs whether or not the insert reads it.
  await sqlRows(
    em,
    `with bumped as (update conversation set last_seq = ?, last_activity_at = ? where id = ?)
     insert into message (id, conversation_id, seq, sender_user_id, sender_device_id, client_message_id, sent_at, expires_at, recipients)
     values (?, ?, ?, ?, ?, ?, ?, ?, ?::text[])`,
    [seq, sentAt, conversation.id, messageId, conversation.id, seq, caller.userId, caller.deviceId, clientMessageId, sentAt, expiresAt, targets.map((e) => deviceKey(e.userId, e.deviceId))],
  );
  const deliveries = targets.map(
    (e): NewDelivery => ({
      userId: e.userId,
      deviceId: e.deviceId,
      messageId,
      payload: { case: 'envelope', value: envelopeOf(conversation.id, caller, e, { messageId, seq: BigInt(seq), ephemeral: false }) },
    }),
  );
  const queued = await enqueue(em, deliveries, sentAt, expiresAt);
  return { sent: { messageId, seq, sentAt, duplicate: false }, queued };
}

/** Checked like a stored send, then handed to the connected devices only; nothing is kept. */
async function sendEphemeral(deps: MessagingDeps, caller: Caller, conversationId: string, envelopes: ValidEnvelope[]): Promise<SentMessage> {
  const em = deps.orm.em.fork();
  const { conversation } = await requireMember(em, conversationId, caller.userId);
  const targets = await deliveryTargets(em, conversation, caller, envelopes);
  const sentAt = new Date();
  for (const e of targets) {
    const delivery = create(DeliverySchema, {
      id: 0n,
      serverTime: timestampFromDate(sentAt),
      payload: { case: 'envelope', value: envelopeOf(conversation.id, caller, e, { messageId: '', seq: 0n, ephemeral: true }) },
    });
    deps.live.ephemeral(e, delivery);
  }
  return { messageId: '', seq: 0, sentAt, duplicate: false };
}

interface MemberDeviceRow {
  user_id: string;
  device_id: number | null;
  registration_id: number | null;
  blocks_sender: boolean;
}

/**
 * The envelopes to deliver, once the caller may write here and the envelopes match the devices.
 * In a group, the envelopes of members who blocked the sender are required like any other (so a
 * sender can't detect a block) but silently not queued, and are left out of the message's
 * recipients: its delivery status lists only devices that were actually sent something.
 */
async function deliveryTargets(em: EntityManager, conversation: Conversation, caller: Caller, envelopes: ValidEnvelope[]): Promise<ValidEnvelope[]> {
  // Every member, with each active device (none for a member without one), in one query.
  const rows: MemberDeviceRow[] = await em.execute(
    `select m.user_id, d.device_id, d.registration_id,
            exists (select 1 from block_projection b where b.blocker_id = m.user_id and b.blocked_id = ? and b.active) as blocks_sender
     from conversation_member m
     left join device_projection d on d.user_id = m.user_id and d.active and not (d.user_id = ? and d.device_id = ?)
     where m.conversation_id = ?`,
    [caller.userId, caller.userId, caller.deviceId, conversation.id],
  );
  if (conversation.kind === 'direct') {
    const other = rows.find((r) => r.user_id !== caller.userId);
    if (other) await requireMayMessage(em, caller.userId, other.user_id);
  }
  const expected = rows
    .filter((r) => r.device_id !== null)
    .map((r): ExpectedDevice => ({ userId: r.user_id, deviceId: r.device_id!, registrationId: r.registration_id! }));
  requireMatchingDevices(expected, envelopes);
  const blockingSender = new Set(rows.filter((r) => r.blocks_sender && r.user_id !== caller.userId).map((r) => r.user_id));
  return envelopes.filter((e) => !blockingSender.has(e.userId));
}

function envelopeOf(conversationId: string, caller: Caller, e: ValidEnvelope, message: { messageId: string; seq: bigint; ephemeral: boolean }): Envelope {
  return create(EnvelopeSchema, { conversationId, senderUserId: caller.userId, senderDeviceId: caller.deviceId, type: e.type, ciphertext: e.ciphertext, ...message });
}

/**
 * The answer to a retry: the first send with this client_message_id, or ALREADY_EXISTS when it
 * went to another conversation.
 */
async function earlierSend(em: EntityManager, senderId: string, clientMessageId: string, conversationId: string): Promise<SentMessage | undefined> {
  const [row]: { id: string; conversation_id: string; seq: string; sent_at: string }[] = await em.execute(
    `select id, conversation_id, seq, sent_at from message where sender_user_id = ? and client_message_id = ?`,
    [senderId, clientMessageId],
  );
  if (!row) return undefined;
  if (row.conversation_id !== conversationId) {
    throw rpcError.alreadyExists(`client_message_id ${clientMessageId} was already used for another conversation; choose a new one`);
  }
  return { messageId: row.id, seq: Number(row.seq), sentAt: new Date(row.sent_at), duplicate: true };
}
