import { Code } from '@connectrpc/connect';
import { create } from '@bufbuild/protobuf';
import { createValidator } from '@bufbuild/protovalidate';
import { CiphertextType, DeviceMismatchSchema, SendMessageRequestSchema, type OutgoingEnvelope, type SendMessageRequest } from '@parley/proto';
import { connectErrorThrownBy } from '@parley/testing';
import { deviceMismatch, requireMatchingDevices, validEnvelopes, type ExpectedDevice } from './outgoing-envelopes.js';

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
});

describe("SendMessageRequest's contract", () => {
  const validator = createValidator();
  const violations = (fields: Partial<SendMessageRequest>) => {
    const request = create(SendMessageRequestSchema, { conversationId: U1, clientMessageId: 'm1', envelopes: [envelope(U2, 1)], ...fields });
    const result = validator.validate(SendMessageRequestSchema, request);
    return result.kind === 'invalid' ? result.violations.map((v) => `${String(v).split(':')[0]} ${v.ruleId}`) : result.kind;
  };

  it('takes UUIDs and short tokens as client message ids, nothing else', () => {
    expect([violations({ clientMessageId: U1 }), violations({ clientMessageId: 'a'.repeat(64) })]).toEqual(['valid', 'valid']);
    expect([violations({ clientMessageId: 'a'.repeat(65) }), violations({ clientMessageId: 'a/b' }), violations({ clientMessageId: '' })]).toEqual([
      ['client_message_id string.max_len'],
      ['client_message_id string.pattern'],
      ['client_message_id required'],
    ]);
  });

  it('refuses envelopes with a malformed address, an unknown ciphertext type or no ciphertext, naming each', () => {
    const bad = { ...envelope('nope', 0, 16381, 0), type: 99 as CiphertextType };
    expect(violations({ envelopes: [envelope(U2, 1), bad] })).toEqual([
      'envelopes[1].recipient_user_id string.uuid',
      'envelopes[1].recipient_device_id uint32.gte_lte',
      'envelopes[1].registration_id uint32.gte_lte',
      'envelopes[1].type enum.defined_only',
      'envelopes[1].ciphertext required',
    ]);
  });

  it('takes a send with no envelopes, for a conversation with no other device', () => {
    expect(violations({ envelopes: [] })).toBe('valid');
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
    expect(err.code).toBe(Code.FailedPrecondition);
    expect(addresses(err.findDetails(DeviceMismatchSchema)[0]!.missingDevices)).toEqual(['1.1']);
  });

  it('names the missing, extra and stale devices in the message, for clients that read only JSON', () => {
    const err = connectErrorThrownBy(() => requireMatchingDevices([device(U1, 1), device(U1, 2)], validEnvelopes([envelope(U1, 2, 8), envelope(U2, 3)], limits)));
    expect(err.rawMessage).toBe(
      `envelopes don't match the conversation's devices: missing [${U1}/1]; extra [${U2}/3]; stale [${U1}/2]; fetch keys and retry`,
    );
  });

  it('names at most 20 devices of a kind and counts the rest', () => {
    const expected = Array.from({ length: 23 }, (_, i) => device(U1, i + 1));
    const err = connectErrorThrownBy(() => requireMatchingDevices(expected, []));
    expect(err.rawMessage).toMatch(new RegExp(`^envelopes don't match the conversation's devices: missing \\[${U1}/1, .*${U1}/20, and 3 more\\]; extra \\[\\]; stale \\[\\];`));
  });
});
