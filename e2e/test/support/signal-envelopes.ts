import { create } from '@bufbuild/protobuf';
import { CiphertextType, OutgoingEnvelopeSchema, type Envelope, type OutgoingEnvelope, type PreKeyBundle } from '@parley/proto';
import { CiphertextMessageType, ProtocolAddress } from '@signalapp/libsignal-client';
import type { SignalDevice } from './signal-client.js';

/** libsignal's message types as the wire names them, both ways. */
const WIRE_TYPES: [CiphertextMessageType, CiphertextType][] = [
  [CiphertextMessageType.PreKey, CiphertextType.PREKEY_SIGNAL],
  [CiphertextMessageType.Whisper, CiphertextType.SIGNAL],
];

function wireType(type: CiphertextMessageType): CiphertextType {
  const found = WIRE_TYPES.find(([libsignal]) => libsignal === type);
  if (!found) throw new Error(`no wire type for libsignal message type ${type}`);
  return found[1];
}

function libsignalType(type: CiphertextType): CiphertextMessageType {
  const found = WIRE_TYPES.find(([, wire]) => wire === type);
  if (!found) throw new Error(`no libsignal message type for wire type ${CiphertextType[type]}`);
  return found[0];
}

/** A device to encrypt for: from a prekey bundle (a new session), or one the sender already has a session with. */
export type SignalRecipient = { userId: string; bundle: PreKeyBundle } | { address: ProtocolAddress };

/**
 * What an app does to send: one libsignal ciphertext per recipient device, each in an envelope
 * carrying the registration id its session is with. `plaintextFor` says what each device gets.
 */
export async function encryptForDevices(
  sender: SignalDevice,
  recipients: SignalRecipient[],
  plaintextFor: (address: ProtocolAddress) => string | Uint8Array,
): Promise<OutgoingEnvelope[]> {
  const envelopes: OutgoingEnvelope[] = [];
  for (const recipient of recipients) {
    const address = 'bundle' in recipient ? await sender.processBundle(recipient.userId, recipient.bundle) : recipient.address;
    const session = await sender.sessions.getSession(address);
    if (!session) throw new Error(`no session with ${address.toString()}`);
    const ciphertext = await sender.encrypt(address, plaintextFor(address));
    envelopes.push(
      create(OutgoingEnvelopeSchema, {
        recipientUserId: address.name(),
        recipientDeviceId: address.deviceId(),
        registrationId: session.remoteRegistrationId(),
        type: wireType(ciphertext.type),
        ciphertext: ciphertext.body,
      }),
    );
  }
  return envelopes;
}

/** Decrypts an envelope as the receiving app does: the sender's address and the type come from the envelope. */
export async function decryptEnvelope(recipient: SignalDevice, envelope: Envelope): Promise<string> {
  return new TextDecoder().decode(await decryptEnvelopeBytes(recipient, envelope));
}

export async function decryptEnvelopeBytes(recipient: SignalDevice, envelope: Envelope): Promise<Uint8Array> {
  const from = ProtocolAddress.new(envelope.senderUserId, envelope.senderDeviceId);
  return recipient.decryptBytes(from, { type: libsignalType(envelope.type), body: new Uint8Array(envelope.ciphertext) });
}
