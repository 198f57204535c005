import { create, fromBinary, toBinary } from '@bufbuild/protobuf';
import { timestampFromDate } from '@bufbuild/protobuf/wkt';
import type { SqlRunner } from '@parley/platform';
import { DeliverySchema, type Delivery } from '@parley/proto';
import type { DeviceRef } from '../events/live-signals.js';

export interface NewDelivery extends DeviceRef {
  /** The message an envelope belongs to; null for a notice. */
  messageId: string | null;
  payload: Delivery['payload'];
}

/** A delivery as committed: what the live signal to its device carries. */
export interface QueuedDelivery extends DeviceRef {
  id: bigint;
  queueSeq: bigint;
  /** The stored Delivery, without its id (which is the row's). */
  body: Uint8Array;
  /** The trace of the send that queued it, when that is not the current one (a send in a batch). */
  traceparent?: string | null;
}

/**
 * Appends to devices' queues, in one statement however many there are. Each device's row is
 * locked (in a fixed order, so two transactions can't deadlock on each other's devices) and gives
 * its deliveries the next queue positions. A device messaging doesn't know gets nothing.
 * Returns what was queued, to signal once the transaction commits.
 */
const ENQUEUE = {
  name: 'enqueue_deliveries',
  text: `with item as (
      select * from unnest($1::uuid[], $2::smallint[], $3::uuid[], $4::bytea[]) with ordinality as t(user_id, device_id, message_id, body, ord)
    ),
    device as materialized (
      select d.user_id, d.device_id, d.queue_seq from device_projection d
      where (d.user_id, d.device_id) in (select user_id, device_id from item)
      order by d.user_id, d.device_id
      for update
    ),
    numbered as (
      select i.user_id, i.device_id, i.message_id, i.body,
             d.queue_seq + row_number() over (partition by i.user_id, i.device_id order by i.ord) as queue_seq
      from item i join device d using (user_id, device_id)
    ),
    advanced as (
      update device_projection d set queue_seq = n.top, queued_count = d.queued_count + n.count, queued_bytes = d.queued_bytes + n.bytes
      from (select user_id, device_id, max(queue_seq) as top, count(*) as count, sum(octet_length(body)) as bytes
            from numbered group by user_id, device_id) n
      where d.user_id = n.user_id and d.device_id = n.device_id
    )
    insert into queued_delivery (recipient_user_id, recipient_device_id, queue_seq, message_id, body, created_at, expires_at)
    select user_id, device_id, queue_seq, message_id, body, $5, $6 from numbered
    returning id::text, recipient_user_id, recipient_device_id, queue_seq::text, body`,
};

export async function enqueue(sql: SqlRunner, items: NewDelivery[], now: Date, expiresAt: Date): Promise<QueuedDelivery[]> {
  if (items.length === 0) return [];
  const bodies = items.map(({ payload }) => toBinary(DeliverySchema, create(DeliverySchema, { serverTime: timestampFromDate(now), payload })));
  const rows = await sql.query<{ id: string; recipient_user_id: string; recipient_device_id: number; queue_seq: string; body: Uint8Array }>(ENQUEUE, [
    items.map((i) => i.userId),
    items.map((i) => i.deviceId),
    items.map((i) => i.messageId),
    bodies,
    now,
    expiresAt,
  ]);
  return rows.map((r) => ({ userId: r.recipient_user_id, deviceId: r.recipient_device_id, id: BigInt(r.id), queueSeq: BigInt(r.queue_seq), body: r.body }));
}

/**
 * A stored row as the device receives it: the stored Delivery with the row's id and, for an
 * envelope, its message's seq (send_messages stores envelopes before their seq is known).
 */
export function toDelivery(id: bigint | number | string, body: Uint8Array, seq: bigint | number | string | null): Delivery {
  const delivery = fromBinary(DeliverySchema, body);
  delivery.id = BigInt(id);
  if (delivery.payload.case === 'envelope' && seq !== null) delivery.payload.value.seq = BigInt(seq);
  return delivery;
}
