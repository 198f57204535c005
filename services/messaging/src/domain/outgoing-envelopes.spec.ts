import { Code } from '@connectrpc/connect';
import { CiphertextType, DeviceMismatchSchema, type OutgoingEnvelope } from '@parley/proto';
import { connectErrorThrownBy } from '@parley/testing';
import { CLIENT_MESSAGE_ID_MAX, deviceMismatch, requireClientMessageId, requireMatchingDevices, validEnvelopes, type ExpectedDevice } from './outgoing-envelopes.js';

const U1 = '00000000-0000-4000-8000-000000000001';
const U2 = '00000000-0000-4000-8000-000000000002';
const limits = { envelopeMaxBytes: 10, messageMaxBytes: 25 };

const envelope = (userId: string, deviceId: number, registrationId = 7, bytes = 5) =>
  ({ recipientUserId: userId, recipientDeviceId: deviceId, registrationId, type: CiphertextType.SIGNAL, ciphertext: new Uint8Array(bytes) }) as OutgoingEnvelope;
const device = (userId: string, deviceId: number, registrationId = 7): ExpectedDevice => ({ userId, deviceId, registrationId });
const addresses = (list: { userId: string; deviceId: number }[]) => list.map(({ userId, deviceId }) => `${userId.slice(-1)}.${deviceId}`);

describe('validEnvelopes', () => {
  it('normalizes user ids and keeps the rest', () => {
    const [e] = validEnvelopes([envelope(U1.toUpperCase(), 3)], limits);
    expect(e).toEqual({ userId: U1, deviceId: 3, registrationId: 7, type: CiphertextType.SIGNAL, ciphertext: new Uint8Array(5) });
  });

  it('treats ids differing only in case as the same device', () => {
    const err = connectErrorThrownBy(() => validEnvelopes([envelope(U1, 1), envelope(U1.toUpperCase(), 1)], limits));
    expect([err.code, err.rawMessage]).toEqual([Code.InvalidArgument, `envelopes[1] is a second envelope for device 1 of user ${U1}`]);
  });

  it('bounds one envelope and all of them together', () => {
    expect(connectErrorThrownBy(() => validEnvelopes([envelope(U1, 1, 7, 11)], limits)).code).toBe(Code.ResourceExhausted);
    expect(validEnvelopes([envelope(U1, 1, 7, 10), envelope(U1, 2, 7, 10), envelope(U1, 3, 7, 5)], limits)).toHaveLength(3);
    const total = connectErrorThrownBy(() => validEnvelopes([envelope(U1, 1, 7, 10), envelope(U1, 2, 7, 10), envelope(U1, 3, 7, 6)], limits));
    expect([total.code, total.rawMessage]).toEqual([Code.ResourceExhausted, 'the envelopes hold 26 bytes of ciphertext; a message holds at most 25']);
  });

  it('refuses an unknown ciphertext type', () => {
    expect(connectErrorThrownBy(() => validEnvelopes([{ ...envelope(U1, 1), type: 99 as CiphertextType }], limits)).code).toBe(Code.InvalidArgument);
  });
});

describe('requireClientMessageId', () => {
  it('takes UUIDs and short tokens, nothing else', () => {
    expect(requireClientMessageId(U1)).toBe(U1);
    const longest = 'a'.repeat(CLIENT_MESSAGE_ID_MAX);
    expect(requireClientMessageId(longest)).toBe(longest);
    expect(connectErrorThrownBy(() => requireClientMessageId(`${longest}a`)).code).toBe(Code.InvalidArgument);
    expect(connectErrorThrownBy(() => requireClientMessageId('a/b')).code).toBe(Code.InvalidArgument);
  });
});

describe('deviceMismatch', () => {
  it('is undefined for an exact match, in any order', () => {
    const given = validEnvelopes([envelope(U2, 1), envelope(U1, 2)], limits);
    expect(deviceMismatch([device(U1, 2), device(U2, 1)], given)).toBeUndefined();
  });

  it('lists missing, extra and stale devices, each sorted by user then device', () => {
    const given = validEnvelopes([envelope(U2, 9), envelope(U2, 1, 8), envelope(U1, 10), envelope(U1, 2)], limits);
    const mismatch = deviceMismatch([device(U2, 3), device(U2, 1), device(U1, 2), device(U1, 1)], given)!;
    expect([addresses(mismatch.missingDevices), addresses(mismatch.extraDevices), addresses(mismatch.staleDevices)]).toEqual([
      ['1.1', '2.3'],
      ['1.10', '2.9'],
      ['2.1'],
    ]);
  });

  it('wants zero envelopes when there is no device to address', () => {
    expect(deviceMismatch([], [])).toBeUndefined();
    expect(addresses(deviceMismatch([], validEnvelopes([envelope(U1, 1)], limits))!.extraDevices)).toEqual(['1.1']);
  });
});

describe('requireMatchingDevices', () => {
  it('fails with FAILED_PRECONDITION carrying the mismatch as a detail', () => {
    const err = connectErrorThrownBy(() => requireMatchingDevices([device(U1, 1)], []));
    expect([err.code, err.rawMessage]).toEqual([Code.FailedPrecondition, "envelopes don't match the conversation's devices: 1 missing, 0 extra, 0 stale; fetch keys and retry"]);
    expect(addresses(err.findDetails(DeviceMismatchSchema)[0]!.missingDevices)).toEqual(['1.1']);
  });
});
