import { fromBinary, type DescMessage, type MessageInitShape } from '@bufbuild/protobuf';
import { jetstream } from '@nats-io/jetstream';
import { connect, type NatsConnection } from '@nats-io/transport-node';
import { MAX_DELIVERIES_IN_FLIGHT, encodeEnvelope, packEvent, type EventType } from '@parley/platform';
import { ContactService, DeliveryInternalService, LiveSignalSchema, StorageService, type ServerNotice } from '@parley/proto';
import { eventually, serviceClient, startTestStack, type SignedInDevice, type TestStack } from '@parley/testing';
import { messageHarness } from './message-harness.js';

type Notice = ServerNotice['notice'];

/**
 * A stack of auth and messaging with the send-path harness, plus what the group, notice and
 * storage specs add: contacts, storage, events published onto the bus, and live signals.
 */
export async function startGroupHarness(messagingEnv: Record<string, string> = {}) {
  const stack: TestStack = await startTestStack({ services: ['auth', 'messaging'], env: { auth: { BCRYPT_COST: '4' }, messaging: messagingEnv } });
  const nc: NatsConnection = await connect({ servers: stack.natsUrl });
  const base = messageHarness(stack);
  const contacts = serviceClient(ContactService, stack, 'auth');
  const storage = serviceClient(StorageService, stack, 'messaging');
  const queue = serviceClient(DeliveryInternalService, stack, 'messaging');
  const processed = (eventId: string) =>
    eventually(
      () => stack.query('messaging', 'select 1 from processed_event where event_id = $1', [eventId]),
      (rows) => rows.length === 1,
    );

  return {
    ...base,
    stack,
    contacts,
    storage,

    async block(blocker: SignedInDevice, blocked: SignedInDevice): Promise<void> {
      await contacts.blockUser({ userId: blocked.userId }, blocker.as);
      await eventually(
        () => stack.query('messaging', 'select 1 from block_projection where blocker_id = $1 and blocked_id = $2 and active', [blocker.userId, blocked.userId]),
        (rows) => rows.length === 1,
      );
    },

    /** The notices queued for the device, oldest first. */
    async notices(d: SignedInDevice): Promise<Notice[]> {
      const { deliveries } = await queue.fetchDeliveries({ inFlightIds: [], limit: MAX_DELIVERIES_IN_FLIGHT }, d.as);
      return deliveries.flatMap((x) => (x.payload.case === 'notice' ? [x.payload.value.notice] : []));
    },

    /** Acks everything queued for the device, so the next look sees only what came after. */
    async drain(d: SignedInDevice): Promise<void> {
      await base.ackAll(d);
    },

    /**
     * Publishes an event as another service would, under `copies` distinct msg-ids (so the
     * stream's dedupe lets each through and only the consumer can tell), and waits until it is applied.
     */
    async publish<D extends DescMessage>(type: EventType<D>, payload: MessageInitShape<D>, copies = 1): Promise<string> {
      const envelope = packEvent('keys', type, payload);
      const bytes = encodeEnvelope(envelope);
      for (let i = 0; i < copies; i++) await jetstream(nc).publish(stack.isolation.subjects.of(type), bytes, { msgID: `${envelope.id}-${i}` });
      await processed(envelope.id);
      return envelope.id;
    },

    /** Waits until messaging has applied an event id (taken from processed_event). */
    processed,

    /** Collects the kinds of live signal messaging publishes for the device from now on. */
    async listen(d: SignedInDevice): Promise<{ seen: string[]; stop(): void }> {
      const seen: string[] = [];
      const sub = nc.subscribe(stack.isolation.subjects.liveDevice(d.userId, d.deviceId), {
        callback: (_err, msg) => {
          seen.push(fromBinary(LiveSignalSchema, msg.data).signal.case ?? 'none');
        },
      });
      await nc.flush();
      return { seen, stop: () => sub.unsubscribe() };
    },

    async stop(): Promise<void> {
      await nc.close();
      await stack.cleanup();
    },
  };
}

export type GroupHarness = Awaited<ReturnType<typeof startGroupHarness>>;
