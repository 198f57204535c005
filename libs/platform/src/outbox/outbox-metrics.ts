import type { MikroORM } from '@mikro-orm/postgresql';
import { sampledGauge, type Metrics } from '../observability/metrics.js';

/** Outbox lag, read at each scrape: events committed but not yet on the bus, and the age of the oldest. */
export function outboxMetrics(metrics: Metrics, orm: MikroORM): void {
  // seq follows insertion: the oldest row is the first by its unique index, so this reads one row and a count.
  const read = async () => {
    const [row] = await orm.em
      .fork()
      .execute<{ n: string; oldest: Date | null }[]>('select (select count(*) from outbox_event) as n, (select created_at from outbox_event order by seq limit 1) as oldest');
    return { pending: Number(row?.n ?? 0), ageSeconds: row?.oldest ? Math.max(0, (Date.now() - new Date(row.oldest).getTime()) / 1000) : 0 };
  };
  sampledGauge(metrics, { name: 'parley_outbox_pending_events', help: 'Outbox events committed but not yet published' }, async () => [{ value: (await read()).pending }]);
  sampledGauge(metrics, { name: 'parley_outbox_oldest_event_age_seconds', help: 'Age of the oldest unpublished outbox event (0 when none waits): outbox lag' }, async () => [
    { value: (await read()).ageSeconds },
  ]);
}
