import { create, fromBinary, toBinary } from '@bufbuild/protobuf';
import { timestampFromDate } from '@bufbuild/protobuf/wkt';
import { Subjects, type NatsConnection } from '@parley/platform';
import { DeliverySchema, LiveSignalSchema } from '@parley/proto';
import { LiveSignals } from './live-signals.js';

describe('LiveSignals.delivered', () => {
  it('carries each stored delivery whole, with its id and queue position, to its device', () => {
    const published: { subject: string; data: Uint8Array }[] = [];
    const nats = { publish: (subject: string, data: Uint8Array) => published.push({ subject, data }) } as unknown as NatsConnection;
    const subjects = new Subjects('test');
    const stored = create(DeliverySchema, {
      serverTime: timestampFromDate(new Date('2026-12-07T10:00:00Z')),
      payload: { case: 'envelope', value: { conversationId: 'c1', messageId: 'm1', seq: 7n, senderUserId: 'u1', senderDeviceId: 2, ciphertext: new Uint8Array([9, 8, 7]) } },
    });
    const body = toBinary(DeliverySchema, stored);
    new LiveSignals(nats, subjects).delivered([
      { userId: 'u2', deviceId: 3, id: 12345678901n, queueSeq: 42n, body },
      { userId: 'u3', deviceId: 1, id: 1n, queueSeq: 1n, body },
    ]);

    expect(published.map((p) => p.subject)).toEqual([subjects.liveDevice('u2', 3), subjects.liveDevice('u3', 1)]);
    const { signal } = fromBinary(LiveSignalSchema, published[0]!.data);
    expect(signal.case).toBe('delivered');
    if (signal.case !== 'delivered') return;
    expect(signal.value.queueSeq).toBe(42n);
    expect(signal.value.delivery).toEqual(create(DeliverySchema, { ...stored, id: 12345678901n }));
  });
});
