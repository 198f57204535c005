import { createClient, type CallOptions, type Client } from '@connectrpc/connect';
import { createGrpcTransport } from '@connectrpc/connect-node';
import { fromBinary, type DescMessage, type MessageInitShape } from '@bufbuild/protobuf';
import { jetstream } from '@nats-io/jetstream';
import { connect, type NatsConnection } from '@nats-io/transport-node';
import { encodeEnvelope, packEvent, type EventType } from '@parley/platform';
import {
  AuthService,
  ContactService,
  ConversationService,
  DeliveryInternalService,
  DeviceService,
  LiveSignalSchema,
  MessageService,
  StorageService,
  type ServerNotice,
} from '@parley/proto';
import { eventually, startTestStack, type TestStack } from '@parley/testing';

export const PASSWORD = 'correct horse battery';

/** One signed-in device of a user, once messaging knows it. */
export interface TestDevice {
  userId: string;
  deviceId: number;
  as: CallOptions;
}

type Notice = ServerNotice['notice'];

/** A stack of auth and messaging, with clients and the steps the group, notice and storage specs share. */
export async function startGroupHarness(messagingEnv: Record<string, string> = {}) {
  const stack: TestStack = await startTestStack({ services: ['auth', 'messaging'], env: { auth: { BCRYPT_COST: '4' }, messaging: messagingEnv } });
  const nc: NatsConnection = await connect({ servers: stack.natsUrl });
  const authTransport = createGrpcTransport({ baseUrl: `http://127.0.0.1:${stack.services.auth.rpcPort}` });
  const messagingTransport = createGrpcTransport({ baseUrl: `http://127.0.0.1:${stack.services.messaging.rpcPort}` });
  const auth: Client<typeof AuthService> = createClient(AuthService, authTransport);
  const contacts: Client<typeof ContactService> = createClient(ContactService, authTransport);
  const devices: Client<typeof DeviceService> = createClient(DeviceService, authTransport);
  const conversations: Client<typeof ConversationService> = createClient(ConversationService, messagingTransport);
  const storage: Client<typeof StorageService> = createClient(StorageService, messagingTransport);
  const messages: Client<typeof MessageService> = createClient(MessageService, messagingTransport);
  const queue: Client<typeof DeliveryInternalService> = createClient(DeliveryInternalService, messagingTransport);
  let n = 0;

  const bearer = (token: string): CallOptions => ({ headers: { authorization: `Bearer ${token}` } });
  const knownDevice = (d: TestDevice) =>
    eventually(
      () => stack.query('messaging', 'select 1 from device_projection where user_id = $1 and device_id = $2 and active', [d.userId, d.deviceId]),
      (rows) => rows.length === 1,
    );
  const processed = (eventId: string) =>
    eventually(
      () => stack.query('messaging', 'select 1 from processed_event where event_id = $1', [eventId]),
      (rows) => rows.length === 1,
    );

  return {
    stack,
    auth,
    contacts,
    devices,
    conversations,
    storage,
    messages,

    /** A new account's first device. */
    async account(): Promise<TestDevice> {
      const res = await auth.register({ username: `grp_${process.pid}_${++n}`, password: PASSWORD, registrationId: 1000 + n });
      const device = { userId: res.user!.id, deviceId: res.device!.deviceId, as: bearer(res.tokens!.accessToken) };
      await eventually(
        () => stack.query('messaging', 'select 1 from user_projection where user_id = $1', [device.userId]),
        (rows) => rows.length === 1,
      );
      await knownDevice(device);
      return device;
    },

    /** Another device of `primary`'s account. */
    async link(primary: TestDevice): Promise<TestDevice> {
      const { code } = await devices.createLinkCode({}, primary.as);
      const res = await devices.linkDevice({ code, deviceName: `device ${++n}`, registrationId: 2000 + n, password: PASSWORD });
      if (res.outcome.case !== 'linked') throw new Error(`expected the device to be linked at once, got ${res.outcome.case}`);
      const linked = { userId: primary.userId, deviceId: res.outcome.value.device!.deviceId, as: bearer(res.outcome.value.tokens!.accessToken) };
      await knownDevice(linked);
      return linked;
    },

    async block(blocker: TestDevice, blocked: TestDevice): Promise<void> {
      await contacts.blockUser({ userId: blocked.userId }, blocker.as);
      await eventually(
        () => stack.query('messaging', 'select 1 from block_projection where blocker_id = $1 and blocked_id = $2 and active', [blocker.userId, blocked.userId]),
        (rows) => rows.length === 1,
      );
    },

    /** The notices queued for the device, oldest first. */
    async notices(d: TestDevice): Promise<Notice[]> {
      const { deliveries } = await queue.fetchDeliveries({ inFlightIds: [], limit: 256 }, d.as);
      return deliveries.flatMap((x) => (x.payload.case === 'notice' ? [x.payload.value.notice] : []));
    },

    /** Acks everything queued for the device, so the next look sees only what came after. */
    async drain(d: TestDevice): Promise<void> {
      const { deliveries } = await queue.fetchDeliveries({ inFlightIds: [], limit: 256 }, d.as);
      if (deliveries.length) await messages.ackDeliveries({ deliveryIds: deliveries.map((x) => x.id) }, d.as);
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
    async listen(d: TestDevice): Promise<{ seen: string[]; stop(): void }> {
      const seen: string[] = [];
      const sub = nc.subscribe(stack.isolation.subjects.liveDevice(d.userId, d.deviceId), {
        callback: (_err, msg) => seen.push(fromBinary(LiveSignalSchema, msg.data).signal.case ?? 'none'),
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
