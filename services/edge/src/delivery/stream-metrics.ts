import { timestampMs } from '@bufbuild/protobuf/wkt';
import { Counter, Gauge, Histogram } from 'prom-client';
import type { Metrics } from '@parley/platform';
import type { Delivery } from '@parley/proto';
import type { DeliveryPath, EndReason } from './delivery-stream.js';

/** The edge's Subscribe metrics: open streams, deliveries sent (and how long after the send) and dropped, and stream ends by reason. */
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
  // From messaging's commit (the delivery's server_time) to the write on the stream: the send-to-deliver SLO on "live".
  const latency = new Histogram({
    name: 'parley_edge_send_to_deliver_seconds',
    help: 'Time from a message being stored to its delivery being written to a Subscribe stream, by path (live: the device was connected; fetched: it includes time offline)',
    labelNames: ['path'] as const,
    buckets: [0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 60, 600, 3600, 86400],
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
    delivered: (path: DeliveryPath, delivery: Delivery) => {
      sent.inc({ path });
      if (delivery.serverTime) latency.observe({ path }, Math.max(0, Date.now() - timestampMs(delivery.serverTime)) / 1000);
    },
  };
}

export type StreamMetrics = ReturnType<typeof streamMetrics>;
