import { create } from '@bufbuild/protobuf';
import { MAX_DELIVERIES_IN_FLIGHT, rpcError, sqlRows, type Caller } from '@parley/platform';
import { FetchDeliveriesResponseSchema, type FetchDeliveriesResponse } from '@parley/proto';
import type { MessagingDeps } from '../deps.js';
import { toDelivery } from './delivery-queue.js';

/**
 * The calling device's oldest unexpired deliveries that are not in flight. Skipping in-flight ids
 * rather than reading after a cursor matters: ids are taken at insert, not at commit, so a lower
 * id can become visible after a higher one was read.
 */
export async function fetchDeliveries(deps: MessagingDeps, caller: Caller, input: { inFlightIds: bigint[]; limit: number }): Promise<FetchDeliveriesResponse> {
  if (input.inFlightIds.length > MAX_DELIVERIES_IN_FLIGHT) throw rpcError.invalidArgument(`in_flight_ids holds at most ${MAX_DELIVERIES_IN_FLIGHT} ids`);
  if (input.limit < 1 || input.limit > MAX_DELIVERIES_IN_FLIGHT) throw rpcError.invalidArgument(`limit must be 1 to ${MAX_DELIVERIES_IN_FLIGHT}`);
  const em = deps.orm.em.fork();
  const inFlight = input.inFlightIds.map(String);
  const rows = await sqlRows<{ id: string; body: Buffer }>(
    em,
    `select id, body from queued_delivery
     where recipient_user_id = ? and recipient_device_id = ? and expires_at > now() and id <> all(?::bigint[])
     order by id limit ?`,
    [caller.userId, caller.deviceId, inFlight, input.limit + 1],
  );
  const stillQueued = inFlight.length
    ? await sqlRows<{ id: string }>(em, `select id from queued_delivery where recipient_user_id = ? and recipient_device_id = ? and id = any(?::bigint[])`, [
        caller.userId,
        caller.deviceId,
        inFlight,
      ])
    : [];
  return create(FetchDeliveriesResponseSchema, {
    deliveries: rows.slice(0, input.limit).map((r) => toDelivery(r.id, r.body)),
    stillQueuedIds: stillQueued.map((r) => BigInt(r.id)),
    more: rows.length > input.limit,
  });
}
