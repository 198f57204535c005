import { randomUUID } from 'node:crypto';
import { create } from '@bufbuild/protobuf';
import { Code, ConnectError, type Client } from '@connectrpc/connect';
import {
  CiphertextType,
  DeviceMismatchSchema,
  OutgoingEnvelopeSchema,
  type Conversation,
  type DeviceMismatch,
  type MessageService,
  type OutgoingEnvelope,
  type SendMessageResponse,
} from '@parley/proto';
import { eventually, type DeviceAddress } from '@parley/testing';
import type { EdgeDevice } from './accounts.js';

/** An envelope whose ciphertext is just the bytes of `text`: the server never looks inside, so tests that aren't about encryption skip it. */
export function opaqueEnvelope(to: DeviceAddress, text: string): OutgoingEnvelope {
  return create(OutgoingEnvelopeSchema, {
    recipientUserId: to.userId,
    recipientDeviceId: to.deviceId,
    registrationId: to.registrationId,
    type: CiphertextType.SIGNAL,
    ciphertext: new TextEncoder().encode(text),
  });
}

export const textOf = (ciphertext: Uint8Array): string => new TextDecoder().decode(ciphertext);

/** Opens the direct conversation once messaging has learnt both users from auth's events. */
export async function openDirect(from: EdgeDevice, to: EdgeDevice): Promise<Conversation> {
  const res = await eventually(
    () => from.conversations.openDirectConversation({ userId: to.userId }).catch((err) => ConnectError.from(err)),
    (res) => !(res instanceof ConnectError && res.code === Code.NotFound),
  );
  if (res instanceof ConnectError) throw res;
  return res.conversation!;
}

/** Creates a group once messaging has learnt every member from auth's events. */
export async function createGroup(owner: EdgeDevice, members: EdgeDevice[]): Promise<Conversation> {
  const res = await eventually(
    () => owner.conversations.createGroup({ memberUserIds: members.map((m) => m.userId) }).catch((err) => ConnectError.from(err)),
    (res) => !(res instanceof ConnectError && res.code === Code.NotFound),
  );
  if (res instanceof ConnectError) throw res;
  return res.conversation!;
}

/** The DeviceMismatch detail of a refused send; undefined for any other error. */
export function mismatchOf(err: ConnectError): DeviceMismatch | undefined {
  if (err.code !== Code.FailedPrecondition) return undefined;
  return err.findDetails(DeviceMismatchSchema)[0];
}

/**
 * Sends, retrying with the same client_message_id while messaging's view of the devices lags
 * auth's events (it learns devices from them, so a brand-new device is "extra" for a moment).
 * The tries are one message. Any other failure, or a mismatch that lasts, fails.
 */
export async function sendWhenDevicesKnown(
  messages: Client<typeof MessageService>,
  conversationId: string,
  envelopes: OutgoingEnvelope[],
  clientMessageId: string = randomUUID(),
  frankingCommitment: Uint8Array = new Uint8Array(),
): Promise<SendMessageResponse> {
  const res = await eventually(
    () => messages.sendMessage({ conversationId, clientMessageId, envelopes, frankingCommitment }).catch((err) => ConnectError.from(err)),
    (res) => !(res instanceof ConnectError && mismatchOf(res)),
  );
  if (res instanceof ConnectError) throw res;
  return res;
}
