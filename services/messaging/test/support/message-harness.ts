import { randomUUID } from 'node:crypto';
import { createClient, type CallOptions, type Client } from '@connectrpc/connect';
import { createGrpcTransport } from '@connectrpc/connect-node';
import { MAX_DELIVERIES_IN_FLIGHT } from '@parley/platform';
import { AuthService, ConversationService, DeliveryInternalService, DeviceService, CiphertextType, MessageService, type Delivery } from '@parley/proto';
import { eventually, type TestStack } from '@parley/testing';

export const PASSWORD = 'correct horse battery';

/** One signed-in device of a user, as messaging knows it. */
export interface TestDevice {
  userId: string;
  deviceId: number;
  registrationId: number;
  as: CallOptions;
}

/** Clients of auth and messaging, and the steps the send-path specs share. */
export function messageHarness(stack: TestStack) {
  const authTransport = createGrpcTransport({ baseUrl: `http://127.0.0.1:${stack.services.auth.rpcPort}` });
  const messagingTransport = createGrpcTransport({ baseUrl: `http://127.0.0.1:${stack.services.messaging.rpcPort}` });
  const auth: Client<typeof AuthService> = createClient(AuthService, authTransport);
  const devices: Client<typeof DeviceService> = createClient(DeviceService, authTransport);
  const conversations: Client<typeof ConversationService> = createClient(ConversationService, messagingTransport);
  const messages: Client<typeof MessageService> = createClient(MessageService, messagingTransport);
  const queue: Client<typeof DeliveryInternalService> = createClient(DeliveryInternalService, messagingTransport);
  let n = 0;
  let registrationId = 1000;

  const bearer = (token: string): CallOptions => ({ headers: { authorization: `Bearer ${token}` } });
  const knownDevice = (d: TestDevice) =>
    eventually(
      () => stack.query('messaging', 'select 1 from device_projection where user_id = $1 and device_id = $2 and active', [d.userId, d.deviceId]),
      (rows) => rows.length === 1,
    );

  return {
    auth,
    messages,
    conversations,
    devices,

    /** A new account's first device, once messaging has its user and device. */
    async account(): Promise<TestDevice> {
      const res = await auth.register({ username: `sender_${process.pid}_${++n}`, password: PASSWORD, registrationId: ++registrationId });
      const device = { userId: res.user!.id, deviceId: res.device!.deviceId, registrationId, as: bearer(res.tokens!.accessToken) };
      await eventually(
        () => stack.query('messaging', 'select 1 from user_projection where user_id = $1', [device.userId]),
        (rows) => rows.length === 1,
      );
      await knownDevice(device);
      return device;
    },

    /** Another device linked to `primary`'s account, once messaging knows it. */
    async link(primary: TestDevice): Promise<TestDevice> {
      const { code } = await devices.createLinkCode({}, primary.as);
      const res = await devices.linkDevice({ code, deviceName: `device ${++n}`, registrationId: ++registrationId, password: PASSWORD });
      if (res.outcome.case !== 'linked') throw new Error(`expected the device to be linked at once, got ${res.outcome.case}`);
      const { device, tokens } = res.outcome.value;
      const linked = { userId: primary.userId, deviceId: device!.deviceId, registrationId, as: bearer(tokens!.accessToken) };
      await knownDevice(linked);
      return linked;
    },

    async direct(a: TestDevice, b: TestDevice): Promise<string> {
      return (await conversations.openDirectConversation({ userId: b.userId }, a.as)).conversation!.id;
    },

    /** A group of these users, written straight into messaging's tables (its RPCs are not this spec's subject). */
    async group(...members: TestDevice[]): Promise<string> {
      const id = randomUUID();
      await stack.query('messaging', `insert into conversation (id, kind, created_at) values ($1, 'group', now())`, [id]);
      for (const userId of new Set(members.map((m) => m.userId))) {
        await stack.query('messaging', `insert into conversation_member (conversation_id, user_id, role, joined_at) values ($1, $2, 'member', now())`, [id, userId]);
      }
      return id;
    },

    /** The envelope for `to`, with the registration id messaging expects. */
    envelope(to: TestDevice, text = 'hello', overrides: { registrationId?: number } = {}) {
      return {
        recipientUserId: to.userId,
        recipientDeviceId: to.deviceId,
        registrationId: overrides.registrationId ?? to.registrationId,
        type: CiphertextType.SIGNAL,
        ciphertext: new TextEncoder().encode(`${text} for ${to.userId}.${to.deviceId}`),
      };
    },

    /**
     * What is queued for `device`, oldest first, leaving out the DevicesChanged notices that
     * linking and revoking the test's devices queue: these tests are about messages.
     */
    async queued(device: TestDevice): Promise<Delivery[]> {
      const { deliveries } = await queue.fetchDeliveries({ inFlightIds: [], limit: MAX_DELIVERIES_IN_FLIGHT }, device.as);
      return deliveries.filter((d) => !(d.payload.case === 'notice' && d.payload.value.notice.case === 'devicesChanged'));
    },

    async ackAll(device: TestDevice): Promise<number> {
      const ids = (await queue.fetchDeliveries({ inFlightIds: [], limit: MAX_DELIVERIES_IN_FLIGHT }, device.as)).deliveries.map((d) => d.id);
      return ids.length ? (await messages.ackDeliveries({ deliveryIds: ids }, device.as)).acked : 0;
    },
  };
}

export type MessageHarness = ReturnType<typeof messageHarness>;

export const text = (d: Delivery) => (d.payload.case === 'envelope' ? new TextDecoder().decode(d.payload.value.ciphertext) : undefined);
