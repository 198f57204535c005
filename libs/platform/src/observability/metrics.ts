import { Counter, Gauge, Histogram, Registry, collectDefaultMetrics } from 'prom-client';

/** One registry per process, with Node's default metrics and the platform's own. */
export function createMetrics(service: string) {
  const registry = new Registry();
  registry.setDefaultLabels({ service });
  collectDefaultMetrics({ register: registry });
  return {
    registry,
    rpcHandled: new Counter({
      name: 'parley_rpc_server_handled_total',
      help: 'RPCs completed, by method and Connect code',
      labelNames: ['method', 'code'] as const,
      registers: [registry],
    }),
    rpcSeconds: new Histogram({
      name: 'parley_rpc_server_handling_seconds',
      help: 'RPC handling time, by method',
      labelNames: ['method'] as const,
      buckets: [0.001, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5],
      registers: [registry],
    }),
    outboxPublished: new Counter({
      name: 'parley_outbox_published_total',
      help: 'Outbox events published to JetStream',
      registers: [registry],
    }),
    outboxFailures: new Counter({
      name: 'parley_outbox_publish_failures_total',
      help: 'Outbox publish attempts that failed and will be retried',
      registers: [registry],
    }),
    eventsConsumed: new Counter({
      name: 'parley_events_consumed_total',
      help: 'Events taken by a consumer, by outcome: applied, duplicate, retried, dead_lettered',
      labelNames: ['consumer', 'outcome'] as const,
      registers: [registry],
    }),
  };
}

export type Metrics = ReturnType<typeof createMetrics>;

/** One value per label set, as a scrape finds it. */
export type Samples = { labels?: Record<string, string>; value: number }[];

/**
 * A gauge read when Prometheus scrapes (e.g. from the database), not kept up to date by the hot
 * path. A failed read keeps the last values: the scrape still answers, and health reports the
 * outage.
 */
export function sampledGauge(metrics: Metrics, spec: { name: string; help: string; labelNames?: readonly string[] }, read: () => Promise<Samples>): void {
  new Gauge({
    ...spec,
    labelNames: spec.labelNames ?? [],
    registers: [metrics.registry],
    async collect() {
      const samples = await read().catch(() => undefined);
      if (!samples) return;
      this.reset();
      for (const { labels, value } of samples) {
        if (labels) this.set(labels, value);
        else this.set(value);
      }
    },
  });
}
