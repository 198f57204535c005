import { randomUUID } from 'node:crypto';
import { MAX_DELIVERIES_IN_FLIGHT } from '@parley/platform';
import { AuthService, ConversationService, DeliveryInternalService, DeviceService, CiphertextType, MessageService, type Delivery } from '@parley/proto';
import { Accounts, serviceClient, untilDevicesKnown, untilUsersKnown, type SignedInDevice, type TestStack } from '@parley/testing';

/** Clients of auth and messaging, and the steps the send-path specs share. */
export function messageHarness(stack: TestStack) {
  const auth = serviceClient(AuthService, stack, 'auth');
  const devices = serviceClient(DeviceService, stack, 'auth');
  const conversations = serviceClient(ConversationService, stack, 'messaging');
  const messages = serviceClient(MessageService, stack, 'messaging');
  const queue = serviceClient(DeliveryInternalService, stack, 'messaging');
  const accounts = new Accounts({ auth, devices });

  return {
    auth,
    messages,
    conversations,
    devices,

    /** A new account's first device, once messaging has its user and device. */
    async account(): Promise<SignedInDevice> {
      const device = await accounts.register();
      await untilUsersKnown(stack, 'messaging', [device.userId]);
      await untilDevicesKnown(stack, 'messaging', [device]);
      return device;
    },

    /** Another device linked to `primary`'s account, once messaging knows it. */
    async link(primary: SignedInDevice): Promise<SignedInDevice> {
      const linked = await accounts.linkWithPassword(primary);
      await untilDevicesKnown(stack, 'messaging', [linked]);
      return linked;
    },

    async direct(a: SignedInDevice, b: SignedInDevice): Promise<string> {
      return (await conversations.openDirectConversation({ userId: b.userId }, a.as)).conversation!.id;
    },

    /** A group of these users, written straight into messaging's tables (its RPCs are not this spec's subject). */
    async group(...members: SignedInDevice[]): Promise<string> {
      const id = randomUUID();
      await stack.query('messaging', `insert into conversation (id, kind, created_at) values ($1, 'group', now())`, [id]);
      for (const userId of new Set(members.map((m) => m.userId))) {
        await stack.query('messaging', `insert into conversation_member (conversation_id, user_id, role, joined_at) values ($1, $2, 'member', now())`, [id, userId]);
      }
      return id;
    },

    /** The envelope for `to`, with the registration id messaging expects. */
    envelope(to: SignedInDevice, text = 'hello', overrides: { registrationId?: number } = {}) {
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
    async queued(device: SignedInDevice): Promise<Delivery[]> {
      const { deliveries } = await queue.fetchDeliveries({ inFlightIds: [], limit: MAX_DELIVERIES_IN_FLIGHT }, device.as);
      return deliveries.filter((d) => !(d.payload.case === 'notice' && d.payload.value.notice.case === 'devicesChanged'));
    },

    async ackAll(device: SignedInDevice): Promise<number> {
      const ids = (await queue.fetchDeliveries({ inFlightIds: [], limit: MAX_DELIVERIES_IN_FLIGHT }, device.as)).deliveries.map((d) => d.id);
      return ids.length ? (await messages.ackDeliveries({ deliveryIds: ids }, device.as)).acked : 0;
    },
  };
}

export type MessageHarness = ReturnType<typeof messageHarness>;

export const text = (d: Delivery) => (d.payload.case === 'envelope' ? new TextDecoder().decode(d.payload.value.ciphertext) : undefined);
