import { Counter, Gauge } from 'prom-client';
import type { Metrics } from '@parley/platform';
import type { DeliveryPath, EndReason } from './delivery-stream.js';

/** The edge's Subscribe metrics: open streams, deliveries sent and dropped, and stream ends by reason. */
export function streamMetrics(metrics: Metrics) {
  const registers = [metrics.registry];
  const open = new Gauge({ name: 'parley_edge_streams_open', help: 'Subscribe streams open on this edge', registers });
  const sent = new Counter({
    name: 'parley_edge_deliveries_sent_total',
    help: 'Deliveries sent on Subscribe streams, ephemeral ones included, by how they reached the edge (fetched from the queue, or carried by a live signal)',
    labelNames: ['path'] as const,
    registers,
  });
  const ended = new Counter({
    name: 'parley_edge_streams_ended_total',
    help: 'Subscribe streams ended, by reason',
    labelNames: ['reason'] as const,
    registers,
  });
  const dropped = new Counter({
    name: 'parley_edge_ephemerals_dropped_total',
    help: 'Ephemeral deliveries dropped because the stream was behind (its unread buffer was full)',
    registers,
  });
  return {
    ephemeralDropped: () => dropped.inc(),
    opened: () => open.inc(),
    closed: (reason: EndReason) => {
      open.dec();
      ended.inc({ reason });
    },
    delivered: (path: DeliveryPath) => sent.inc({ path }),
  };
}

export type StreamMetrics = ReturnType<typeof streamMetrics>;
