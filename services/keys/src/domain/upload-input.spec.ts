import { Code } from '@connectrpc/connect';
import { cryptoReady } from '@parley/crypto';
import { connectErrorThrownBy } from '@parley/testing';
import { SignalDevice } from '../../test/support/signal-device.js';
import { parseUploadInput } from './upload-input.js';

beforeAll(() => cryptoReady());

const device = () => new SignalDevice('00000000-0000-4000-8000-000000000001', 1, 1);
const refusal = (call: () => unknown) => {
  const err = connectErrorThrownBy(call);
  return [err.code, err.rawMessage];
};

describe('parseUploadInput', () => {
  it('accepts what libsignal makes, keeping the bytes as sent', () => {
    const d = device();
    const req = d.firstUpload(2, 2);
    const input = parseUploadInput(req, 100);
    expect(Buffer.from(input.identityKey)).toEqual(Buffer.from(req.identityKey));
    expect(input.pqPreKeys.map((k) => k.keyId)).toEqual(req.pqPreKeys.map((k) => k.keyId));
    expect(Buffer.from(input.lastResort!.signature)).toEqual(Buffer.from(req.pqLastResortPreKey.signature));
  });

  it('allows an upload of one-time keys only', () => {
    const d = device();
    expect(parseUploadInput({ identityKey: d.identityKey, preKeys: [d.preKey()], pqPreKeys: [] }, 100).signedPreKey).toBeUndefined();
  });

  it('names the malformed key', () => {
    const d = device();
    const req = d.firstUpload(2);
    req.preKeys[1] = { ...req.preKeys[1]!, publicKey: req.preKeys[1]!.publicKey.slice(0, 32) };
    const [code, message] = refusal(() => parseUploadInput(req, 100));
    expect([code, message]).toEqual([Code.InvalidArgument, expect.stringContaining('pre_keys[1]')]);
    expect(refusal(() => parseUploadInput({ ...d.firstUpload(), identityKey: new Uint8Array() }, 100))).toEqual([
      Code.InvalidArgument,
      expect.stringContaining('identity_key'),
    ]);
  });

  it('refuses a signature by another identity, and a batch over the limit', () => {
    const d = device();
    const req = d.firstUpload(0, 2);
    req.pqPreKeys[1] = device().kyberPreKey(req.pqPreKeys[1]!.keyId);
    expect(refusal(() => parseUploadInput(req, 100))).toEqual([
      Code.InvalidArgument,
      `signature of pq_pre_keys[1] (key id ${req.pqPreKeys[1]!.keyId}) does not verify against identity_key`,
    ]);
    expect(refusal(() => parseUploadInput(d.firstUpload(0, 3), 2))).toEqual([Code.InvalidArgument, 'at most 2 pq_pre_keys per upload (got 3)']);
  });
});
