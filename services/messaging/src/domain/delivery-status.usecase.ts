import { canonicalUuid, rpcError, type Caller } from '@parley/platform';
import { DeliveryState } from '@parley/proto';
import type { MessagingDeps } from '../deps.js';

export interface DeviceDeliveryState {
  userId: string;
  deviceId: number;
  state: DeliveryState;
}

export interface DeliveryStatus {
  devices: DeviceDeliveryState[];
  retracted: boolean;
}

/**
 * Where each envelope of the caller's message is: queued while a queue row holds it, dropped when
 * the message records so, otherwise acked (acking is what else removes a queue row). Someone
 * else's message is NOT_FOUND, like an unknown one, so message ids can't be probed.
 */
export async function getDeliveryStatus(deps: MessagingDeps, caller: Caller, input: { messageId: string }): Promise<DeliveryStatus> {
  const messageId = canonicalUuid(input.messageId);
  const [row]: { sender_user_id: string; recipients: string[]; dropped: string[]; retracted: boolean; queued: string[] }[] = await deps.orm.em
    .fork()
    .execute(
      `select m.sender_user_id, m.recipients, m.dropped, m.retracted_at is not null as retracted,
              array(select q.recipient_user_id::text || '.' || q.recipient_device_id from queued_delivery q where q.message_id = m.id) as queued
       from message m where m.id = ? and m.expires_at > now()`,
      [messageId],
    );
  if (!row || row.sender_user_id !== caller.userId) throw rpcError.notFound(`you sent no message with id ${messageId}`);
  const queued = new Set(row.queued);
  const dropped = new Set(row.dropped);
  const devices = row.recipients.map((key) => {
    const dot = key.lastIndexOf('.');
    const [userId, deviceId] = [key.slice(0, dot), Number(key.slice(dot + 1))];
    const state = queued.has(key) ? DeliveryState.QUEUED : dropped.has(key) ? DeliveryState.DROPPED : DeliveryState.ACKED;
    return { userId, deviceId, state };
  });
  return { devices, retracted: row.retracted };
}
