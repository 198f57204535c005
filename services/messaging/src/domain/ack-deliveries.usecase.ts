import { rpcError, sqlRows, type Caller } from '@parley/platform';
import type { MessagingDeps } from '../deps.js';

export const MAX_ACK_IDS = 1000;

/**
 * Deletes what the calling device acked from its own queue; ids that are not (or no longer) in it
 * are ignored, so a repeated ack is harmless. The device's stream hears of every id, wherever it is.
 */
export async function ackDeliveries(deps: MessagingDeps, caller: Caller, input: { deliveryIds: bigint[] }): Promise<{ acked: number }> {
  if (input.deliveryIds.length === 0) throw rpcError.invalidArgument('delivery_ids must name at least one delivery');
  if (input.deliveryIds.length > MAX_ACK_IDS) throw rpcError.invalidArgument(`delivery_ids holds at most ${MAX_ACK_IDS} ids per call`);
  if (input.deliveryIds.some((id) => id <= 0n)) throw rpcError.invalidArgument('delivery ids are positive');
  const deleted = await sqlRows<{ id: string }>(
    deps.orm.em.fork(),
    `delete from queued_delivery where recipient_user_id = ? and recipient_device_id = ? and id = any(?::bigint[]) returning id`,
    [caller.userId, caller.deviceId, input.deliveryIds.map(String)],
  );
  deps.live.acked(caller, input.deliveryIds);
  return { acked: deleted.length };
}
