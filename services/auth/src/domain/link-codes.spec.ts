import { createHash } from 'node:crypto';
import { Code, ConnectError } from '@connectrpc/connect';
import type { LinkCode } from './link-code.entity';
import { APPROVAL_SECRET_BYTES, LINK_CODE_BYTES, newSecret, parseSecret, pendingRequest, requireLiveCode } from './link-codes';

const now = new Date('2026-11-26T12:00:00Z');

function codeRow(overrides: Partial<LinkCode> = {}): LinkCode {
  return {
    id: 'c',
    user: { id: 'u' } as LinkCode['user'],
    createdByDeviceId: 1,
    codeHash: 'h',
    createdAt: now,
    expiresAt: new Date(now.getTime() + 60_000),
    ...overrides,
  };
}

function failure(fn: () => unknown): [Code, string] {
  try {
    fn();
  } catch (err) {
    const e = ConnectError.from(err);
    return [e.code, e.rawMessage];
  }
  throw new Error('expected a failure');
}

describe('newSecret and parseSecret', () => {
  it('makes base64url secrets of the given size whose parse is their SHA-256', () => {
    for (const bytes of [LINK_CODE_BYTES, APPROVAL_SECRET_BYTES]) {
      const { secret, hash } = newSecret(bytes);
      expect(Buffer.from(secret, 'base64url')).toHaveLength(bytes);
      expect(hash).toBe(createHash('sha256').update(secret).digest('hex'));
      expect(parseSecret(` ${secret}\n`, 'code', bytes)).toBe(hash);
    }
  });

  it('refuses a short, long or non-base64url secret, naming the field', () => {
    const { secret } = newSecret(LINK_CODE_BYTES);
    for (const bad of [secret.slice(1), `${secret}A`, `${secret.slice(1)}+`]) {
      expect(failure(() => parseSecret(bad, 'approval_secret', LINK_CODE_BYTES))).toEqual([
        Code.InvalidArgument,
        'approval_secret is malformed: copy it again exactly as it was given',
      ]);
    }
  });
});

describe('requireLiveCode', () => {
  it('passes a live code and says why a dead one fails, spent before expired', () => {
    expect(() => requireLiveCode(codeRow(), now)).not.toThrow();
    expect(failure(() => requireLiveCode(null, now))[0]).toBe(Code.NotFound);
    expect(failure(() => requireLiveCode(codeRow({ expiresAt: now }), now))).toEqual([
      Code.FailedPrecondition,
      'link code has expired: create a new one on a linked device',
    ]);
    expect(failure(() => requireLiveCode(codeRow({ expiresAt: now, redeemedAt: now }), now))).toEqual([
      Code.FailedPrecondition,
      'link code was already used: create a new one on a linked device',
    ]);
  });
});

describe('pendingRequest', () => {
  it('is the requested device once a request was recorded', () => {
    expect(pendingRequest(codeRow())).toBeUndefined();
    const identityKey = Buffer.alloc(33, 5);
    const requested = codeRow({ requestedAt: now, requestedDeviceName: 'Desktop', requestedRegistrationId: 77, requestedIdentityKey: identityKey });
    expect(pendingRequest(requested)).toEqual({ name: 'Desktop', registrationId: 77, identityKey });
    // A request recorded before keys were stated has none to approve.
    expect(pendingRequest({ ...requested, requestedIdentityKey: null })).toBeUndefined();
  });
});
