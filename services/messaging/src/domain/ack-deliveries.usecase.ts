import { Batcher, type Caller, type SqlPool } from '@parley/platform';
import type { MessagingDeps } from '../deps.js';
import type { LiveSignals } from '../events/live-signals.js';

/** Most AckDeliveries calls one delete takes (each up to the 1000 ids the contract admits). */
const ACKS_PER_STATEMENT = 64;

interface Ack {
  caller: Caller;
  deliveryIds: bigint[];
}

/** Each device's acked ids, checked against that device's own queue: nobody acks another's deliveries. */
const DELETE_ACKED = {
  name: 'delete_acked',
  text: `delete from queued_delivery q
    using unnest($1::int[], $2::uuid[], $3::smallint[], $4::bigint[]) as t(ack, user_id, device_id, id)
    where q.id = t.id and q.recipient_user_id = t.user_id and q.recipient_device_id = t.device_id
    returning t.ack`,
};

/**
 * Deletes acked deliveries. Acks that arrive while a delete runs go together in the next one, so a
 * busy server deletes many devices' acks per statement.
 */
export class AckQueue {
  private readonly batcher: Batcher<Ack, number>;

  constructor(sql: SqlPool, live: LiveSignals, concurrency: number) {
    this.batcher = new Batcher(async (acks) => {
      const rows = await sql.query<{ ack: number }>(DELETE_ACKED, [
        acks.flatMap((a, i) => a.deliveryIds.map(() => i)),
        acks.flatMap((a) => a.deliveryIds.map(() => a.caller.userId)),
        acks.flatMap((a) => a.deliveryIds.map(() => a.caller.deviceId)),
        acks.flatMap((a) => a.deliveryIds.map(String)),
      ]);
      const deleted = acks.map(() => 0);
      for (const { ack } of rows) deleted[ack]!++;
      for (const { caller, deliveryIds } of acks) live.acked(caller, deliveryIds);
      return deleted;
    }, { maxBatch: ACKS_PER_STATEMENT, concurrency });
  }

  ack(caller: Caller, deliveryIds: bigint[]): Promise<number> {
    return this.batcher.submit({ caller, deliveryIds });
  }
}

/**
 * Deletes what the calling device acked from its own queue; ids that are not (or no longer) in it
 * are ignored, so a repeated ack is harmless. The device's stream hears of every id, wherever it is.
 */
export async function ackDeliveries(deps: Pick<MessagingDeps, 'acks'>, caller: Caller, input: { deliveryIds: bigint[] }): Promise<{ acked: number }> {
  return { acked: await deps.acks.ack(caller, input.deliveryIds) };
}
