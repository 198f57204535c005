import { create } from '@bufbuild/protobuf';
import type { EntityManager } from '@mikro-orm/postgresql';
import { emRunner, canonicalUuid, rpcError, sqlRows, type Caller } from '@parley/platform';
import { ServerNoticeSchema } from '@parley/proto';
import type { MessagingDeps } from '../deps.js';
import type { DeviceRef } from '../events/live-signals.js';
import { enqueue } from './delivery-queue.js';
import { requireMember } from './membership.js';
import { deviceKey } from './message.entity.js';

export interface RetractMessageInput {
  conversationId: string;
  messageId: string;
}

interface MessageRow {
  seq: string;
  sender_user_id: string;
  sent_at: string;
  recipients: string[];
  retracted_at: string | null;
}

/**
 * Deletes a message for everyone: its envelopes still queued are dropped (and recorded as such),
 * and every device it went to, with the sender's other devices, is told to remove it. Retracting
 * again changes nothing and notifies no one.
 */
export async function retractMessage(deps: MessagingDeps, caller: Caller, input: RetractMessageInput): Promise<{ droppedEnvelopes: number }> {
  const conversationId = canonicalUuid(input.conversationId);
  const messageId = canonicalUuid(input.messageId);
  const { dropped, notified } = await deps.orm.em.fork().transactional(async (em) => {
    await requireMember(em, conversationId, caller.userId);
    // Locked, so of two racing retractions the second sees the first and does nothing.
    const [message]: MessageRow[] = await em.execute(
      `select seq, sender_user_id, sent_at, recipients, retracted_at from message
       where id = ? and conversation_id = ? and expires_at > now() for update`,
      [messageId, conversationId],
    );
    if (!message) throw rpcError.notFound(`this conversation has no message with id ${messageId}`);
    if (message.sender_user_id !== caller.userId) throw rpcError.permissionDenied('only the sender can delete a message for everyone');
    if (message.retracted_at) return { dropped: 0, notified: [] };
    const now = new Date();
    const windowSeconds = deps.settings.retractWindowSeconds;
    if (now.getTime() - new Date(message.sent_at).getTime() > windowSeconds * 1000) {
      throw rpcError.failedPrecondition(`a message can be deleted for everyone only within ${windowSeconds} seconds of sending it`);
    }
    // Every device this touches (its queue's counters as the rows go, then the notices), locked
    // first and in key order, as sends lock them: taken piecemeal, the two could deadlock.
    await sqlRows(
      em,
      `select 1 from device_projection where (user_id::text || '.' || device_id) = any(?::text[]) or user_id = ?
       order by user_id, device_id for update`,
      [message.recipients, caller.userId],
    );
    const droppedRows: { recipient_user_id: string; recipient_device_id: number }[] = await em.execute(
      `delete from queued_delivery where message_id = ? returning recipient_user_id, recipient_device_id`,
      [messageId],
    );
    await sqlRows(em, `update message set retracted_at = ?, dropped = array(select distinct unnest(dropped || ?::text[])) where id = ?`, [
      now,
      droppedRows.map((r) => deviceKey(r.recipient_user_id, r.recipient_device_id)),
      messageId,
    ]);
    const devices = await devicesToNotify(em, message.recipients, caller);
    const notice = create(ServerNoticeSchema, {
      notice: { case: 'messageRetracted', value: { conversationId, messageId, seq: BigInt(message.seq), senderUserId: caller.userId } },
    });
    const notified = await enqueue(
      emRunner(em),
      devices.map((d) => ({ ...d, messageId: null, payload: { case: 'notice', value: notice } })),
      now,
      new Date(now.getTime() + deps.settings.messageTtlSeconds * 1000),
    );
    return { dropped: droppedRows.length, notified };
  });
  deps.live.delivered(notified);
  return { droppedEnvelopes: dropped };
}

/** The message's recipients that are still active, and the sender's other active devices. */
async function devicesToNotify(em: EntityManager, recipients: string[], caller: Caller): Promise<DeviceRef[]> {
  const rows = await sqlRows<{ user_id: string; device_id: number }>(
    em,
    `select user_id, device_id from device_projection
     where active and ((user_id::text || '.' || device_id) = any(?::text[]) or (user_id = ? and device_id <> ?))`,
    [recipients, caller.userId, caller.deviceId],
  );
  return rows.map((r) => ({ userId: r.user_id, deviceId: r.device_id }));
}
