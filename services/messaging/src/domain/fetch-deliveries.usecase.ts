import { create } from '@bufbuild/protobuf';
import type { Caller } from '@parley/platform';
import { FetchDeliveriesResponseSchema, type FetchDeliveriesResponse } from '@parley/proto';
import type { MessagingDeps } from '../deps.js';
import { toDelivery } from './delivery-queue.js';

/**
 * One statement, so the page, the in-flight ids still queued and the queue head are read from one
 * snapshot: a delivery committed after it has a position past the head, and its signal is news.
 * The page skips in-flight ids rather than reading after a cursor, so the edge can ask again
 * for what it has not sent without knowing which positions it holds.
 */
const FETCH = {
  name: 'fetch_deliveries',
  text: `select d.queue_seq::text as queue_head, s.still_queued, p.id::text, p.body, p.seq::text
    from device_projection d
    cross join lateral (
      select array(select q.id::text from queued_delivery q
                   where q.recipient_user_id = $1 and q.recipient_device_id = $2 and q.id = any($3::bigint[])) as still_queued
    ) s
    left join lateral (
      select q.id, q.body, m.seq from queued_delivery q left join message m on m.id = q.message_id
      where q.recipient_user_id = $1 and q.recipient_device_id = $2 and q.expires_at > now() and q.id <> all($3::bigint[])
      order by q.queue_seq limit $4
    ) p on true
    where d.user_id = $1 and d.device_id = $2`,
};

/** The calling device's oldest unexpired deliveries that are not in flight, and where its queue stands. */
export async function fetchDeliveries(deps: MessagingDeps, caller: Caller, input: { inFlightIds: bigint[]; limit: number }): Promise<FetchDeliveriesResponse> {
  const rows = await deps.sql.query<{ queue_head: string; still_queued: string[]; id: string | null; body: Uint8Array | null; seq: string | null }>(FETCH, [
    caller.userId,
    caller.deviceId,
    input.inFlightIds.map(String),
    input.limit + 1,
  ]);
  const page = rows.filter((r) => r.id !== null);
  return create(FetchDeliveriesResponseSchema, {
    deliveries: page.slice(0, input.limit).map((r) => toDelivery(r.id!, r.body!, r.seq)),
    stillQueuedIds: (rows[0]?.still_queued ?? []).map(BigInt),
    more: page.length > input.limit,
    queueHead: BigInt(rows[0]?.queue_head ?? 0),
  });
}
