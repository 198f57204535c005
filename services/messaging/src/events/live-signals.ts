import { create, toBinary, type MessageInitShape } from '@bufbuild/protobuf';
import { BinaryWriter, WireType } from '@bufbuild/protobuf/wire';
import { traceHeaders, type NatsConnection, type Subjects } from '@parley/platform';
import { LiveSignalSchema, type Delivery } from '@parley/proto';
import type { QueuedDelivery } from '../domain/delivery-queue.js';

export interface DeviceRef {
  userId: string;
  deviceId: number;
}

// Field numbers of the messages a Delivered signal is written from (delivery_internal.proto, delivery.proto).
const LIVE_SIGNAL_DELIVERED = 6;
const DELIVERED_DELIVERY = 1;
const DELIVERED_QUEUE_SEQ = 2;
const DELIVERY_ID = 1;

/**
 * Tells the edge holding a device's stream what changed, over core NATS. A signal is a hint,
 * never the data of record: a lost one delays delivery until the edge notices the gap in queue
 * positions, a resync or a reconnect, and loses nothing (the queue is in PostgreSQL). Publish only
 * after the commit.
 */
export class LiveSignals {
  constructor(
    private readonly nats: NatsConnection,
    private readonly subjects: Subjects,
  ) {}

  /**
   * Each committed delivery, carried whole to its device's stream, so a connected device gets it
   * without a fetch. The stored body is a Delivery without its id; the signal is written around it
   * (a protobuf message may be split into concatenated parts) instead of decoding and encoding it.
   */
  delivered(queued: Iterable<QueuedDelivery>): void {
    for (const { userId, deviceId, id, queueSeq, body, traceparent } of queued) {
      const w = new BinaryWriter();
      w.tag(LIVE_SIGNAL_DELIVERED, WireType.LengthDelimited).fork();
      w.tag(DELIVERED_DELIVERY, WireType.LengthDelimited).fork();
      w.tag(DELIVERY_ID, WireType.Varint).uint64(id);
      w.raw(body);
      w.join();
      w.tag(DELIVERED_QUEUE_SEQ, WireType.Varint).uint64(queueSeq);
      w.join();
      // With tracing on, the signal carries the send's trace, so the edge's delivery joins it.
      const headers = traceHeaders(traceparent);
      if (headers) this.nats.publish(this.subjects.liveDevice(userId, deviceId), w.finish(), { headers });
      else this.nats.publish(this.subjects.liveDevice(userId, deviceId), w.finish());
    }
  }

  acked(device: DeviceRef, deliveryIds: bigint[]): void {
    this.publish(this.subjects.liveDevice(device.userId, device.deviceId), { case: 'acked', value: { deliveryIds } });
  }

  ephemeral(device: DeviceRef, delivery: Delivery): void {
    this.publish(this.subjects.liveDevice(device.userId, device.deviceId), { case: 'ephemeral', value: delivery });
  }

  deviceGone(device: DeviceRef): void {
    this.publish(this.subjects.liveDevice(device.userId, device.deviceId), { case: 'deviceGone', value: {} });
  }

  /** Every stream refetches: for when signals may have been lost (e.g. this process restarted). */
  resync(): void {
    this.nats.publish(this.subjects.liveResync, new Uint8Array());
  }

  private publish(subject: string, signal: MessageInitShape<typeof LiveSignalSchema>['signal']): void {
    this.nats.publish(subject, toBinary(LiveSignalSchema, create(LiveSignalSchema, { signal })));
  }
}
