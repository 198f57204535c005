import { create, fromBinary, toBinary } from '@bufbuild/protobuf';
import { timestampFromDate } from '@bufbuild/protobuf/wkt';
import type { EntityManager } from '@mikro-orm/postgresql';
import { sqlRows } from '@parley/platform';
import { DeliverySchema, type Delivery } from '@parley/proto';
import type { DeviceRef } from '../events/live-signals.js';

export interface NewDelivery extends DeviceRef {
  /** The message an envelope belongs to; null for a notice. */
  messageId: string | null;
  payload: Delivery['payload'];
}

/**
 * Appends to devices' queues in the caller's transaction, in one statement however many there
 * are. Returns the devices to signal once the transaction commits.
 */
export async function enqueue(em: EntityManager, items: NewDelivery[], now: Date, expiresAt: Date): Promise<DeviceRef[]> {
  if (items.length === 0) return [];
  const bodies = items.map(({ payload }) => Buffer.from(toBinary(DeliverySchema, create(DeliverySchema, { serverTime: timestampFromDate(now), payload }))));
  await sqlRows(
    em,
    `insert into queued_delivery (recipient_user_id, recipient_device_id, message_id, body, created_at, expires_at)
     select u, d, m, b, ?, ? from unnest(?::uuid[], ?::smallint[], ?::uuid[], ?::bytea[]) as t(u, d, m, b)`,
    [now, expiresAt, items.map((i) => i.userId), items.map((i) => i.deviceId), items.map((i) => i.messageId), bodies],
  );
  return items.map(({ userId, deviceId }) => ({ userId, deviceId }));
}

/** A stored row as the device receives it: the stored Delivery with the row's id. */
export function toDelivery(id: bigint | number | string, body: Uint8Array): Delivery {
  const delivery = fromBinary(DeliverySchema, body);
  delivery.id = BigInt(id);
  return delivery;
}
