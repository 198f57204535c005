import { create, type MessageInitShape } from '@bufbuild/protobuf';
import type { EntityManager } from '@mikro-orm/postgresql';
import { emRunner, sqlRows } from '@parley/platform';
import { ServerNoticeSchema } from '@parley/proto';
import type { DeviceRef } from '../events/live-signals.js';
import { enqueue, type QueuedDelivery } from './delivery-queue.js';

/**
 * Who hears of which change. Each function queues its notice in the caller's transaction, to
 * devices chosen in SQL, and returns what it queued, to signal once that transaction commits.
 */
export interface NoticeQueue {
  em: EntityManager;
  /** How long a notice waits in a queue: MESSAGE_TTL_SECONDS. */
  ttlSeconds: number;
}

type Notice = MessageInitShape<typeof ServerNoticeSchema>['notice'];

async function queueNotice(q: NoticeQueue, devices: DeviceRef[], notice: Notice): Promise<QueuedDelivery[]> {
  const now = new Date();
  const expiresAt = new Date(now.getTime() + q.ttlSeconds * 1000);
  const value = create(ServerNoticeSchema, { notice });
  const items = devices.map((d) => ({ ...d, messageId: null, payload: { case: 'notice' as const, value } }));
  return enqueue(emRunner(q.em), items, now, expiresAt);
}

async function activeDevices(em: EntityManager, sql: string, params: unknown[]): Promise<DeviceRef[]> {
  const rows = await sqlRows<{ user_id: string; device_id: number }>(
    em,
    `select d.user_id, d.device_id from device_projection d where d.active and (${sql}) order by d.user_id, d.device_id`,
    params,
  );
  return rows.map((r) => ({ userId: r.user_id, deviceId: r.device_id }));
}

/** Users who share a conversation with `?` (not counting themself), as SQL to embed. */
const PEERS_OF = `select peer.user_id from conversation_member mine
  join conversation_member peer on peer.conversation_id = mine.conversation_id
  where mine.user_id = ? and peer.user_id <> mine.user_id`;

/**
 * A conversation's members, roles or info changed: to every device of its members as they are
 * now, and of `formerMemberIds` (removed or left), so they learn they are out.
 */
export async function membershipChanged(q: NoticeQueue, conversationId: string, formerMemberIds: string[] = []): Promise<QueuedDelivery[]> {
  const devices = await activeDevices(
    q.em,
    `d.user_id in (select user_id from conversation_member where conversation_id = ?) or d.user_id = any(?::uuid[])`,
    [conversationId, formerMemberIds],
  );
  return queueNotice(q, devices, { case: 'membershipChanged', value: { conversationId } });
}

/**
 * A user added or revoked a device (`deviceId`): to everyone who shares a conversation with them,
 * and to their own other devices.
 */
export async function devicesChanged(q: NoticeQueue, userId: string, deviceId: number): Promise<QueuedDelivery[]> {
  const devices = await activeDevices(q.em, `d.user_id in (${PEERS_OF}) or (d.user_id = ? and d.device_id <> ?)`, [userId, userId, deviceId]);
  return queueNotice(q, devices, { case: 'devicesChanged', value: { userId } });
}

/** A device's identity key changed: to everyone who shares a conversation with its user, and their other devices. */
export async function identityKeyChanged(q: NoticeQueue, userId: string, deviceId: number): Promise<QueuedDelivery[]> {
  const devices = await activeDevices(q.em, `d.user_id in (${PEERS_OF}) or (d.user_id = ? and d.device_id <> ?)`, [userId, userId, deviceId]);
  return queueNotice(q, devices, { case: 'identityKeyChanged', value: { userId, deviceId } });
}

/** A device is running out of one-time prekeys: to that device, if it is still active. */
export async function preKeysLow(q: NoticeQueue, device: DeviceRef, counts: { preKeys: number; pqPreKeys: number }): Promise<QueuedDelivery[]> {
  const devices = await activeDevices(q.em, `d.user_id = ? and d.device_id = ?`, [device.userId, device.deviceId]);
  return queueNotice(q, devices, { case: 'preKeysLow', value: counts });
}
