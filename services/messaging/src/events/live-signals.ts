import { create, toBinary, type MessageInitShape } from '@bufbuild/protobuf';
import type { NatsConnection, Subjects } from '@parley/platform';
import { LiveSignalSchema, type Delivery } from '@parley/proto';

export interface DeviceRef {
  userId: string;
  deviceId: number;
}

/**
 * Tells the edge holding a device's stream that something changed, over core NATS. A signal is a
 * hint, never the data of record: a lost one delays delivery until the next signal, a resync or
 * a reconnect, and loses nothing (the queue is in PostgreSQL). Publish only after the commit.
 */
export class LiveSignals {
  constructor(
    private readonly nats: NatsConnection,
    private readonly subjects: Subjects,
  ) {}

  queued(devices: Iterable<DeviceRef>): void {
    const seen = new Set<string>();
    for (const { userId, deviceId } of devices) {
      const subject = this.subjects.liveDevice(userId, deviceId);
      if (seen.has(subject)) continue;
      seen.add(subject);
      this.publish(subject, { case: 'queued', value: {} });
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
