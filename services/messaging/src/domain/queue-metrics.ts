import { sampledGauge, type Metrics, type SqlPool } from '@parley/platform';

/** The delivery queue as an operator watches it, read at each scrape: how much waits, and how long the oldest has. */
export function queueMetrics(metrics: Metrics, sql: SqlPool): void {
  sampledGauge(metrics, { name: 'parley_messaging_queued_deliveries', help: 'Deliveries queued for devices and not yet acked' }, async () => {
    // The per-device counters send_messages and the delete trigger keep: no scan of the queue.
    const [row] = await sql.query<{ n: string }>('select coalesce(sum(queued_count), 0) as n from device_projection');
    return [{ value: Number(row?.n ?? 0) }];
  });
  sampledGauge(metrics, { name: 'parley_messaging_oldest_queued_delivery_age_seconds', help: 'Age of the oldest queued delivery (0 when the queue is empty)' }, async () => {
    // Ids follow insertion, so the first by primary key is the oldest.
    const [row] = await sql.query<{ created_at: Date }>('select created_at from queued_delivery order by id limit 1');
    return [{ value: row ? Math.max(0, (Date.now() - row.created_at.getTime()) / 1000) : 0 }];
  });
}
