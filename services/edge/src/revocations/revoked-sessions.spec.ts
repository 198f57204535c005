import { Code, ConnectError } from '@connectrpc/connect';
import type { TokenVerifier } from '@parley/platform';
import { ManualClock } from '@parley/testing';
import { RevokedSessions, refusingRevoked } from './revoked-sessions.js';

describe('RevokedSessions', () => {
  let clock: ManualClock;
  beforeEach(() => {
    clock = new ManualClock(Date.parse('2026-11-26T12:00:00Z'));
  });

  it('remembers a revoked session for the window after its revocation, then forgets it', () => {
    const revoked = new RevokedSessions(60_000, clock);
    revoked.add(['s1', 's2'], new Date(clock.now()));
    expect([revoked.has('s1'), revoked.has('s2'), revoked.has('s3')]).toEqual([true, true, false]);
    clock.advance(59_000);
    expect(revoked.has('s1')).toBe(true);
    clock.advance(2_000);
    expect(revoked.has('s1')).toBe(false);
  });

  it('ignores revocations older than the window, as when replaying the stream', () => {
    const revoked = new RevokedSessions(60_000, clock);
    revoked.add(['old'], new Date(clock.now() - 61_000));
    expect(revoked.has('old')).toBe(false);
    expect(revoked.size).toBe(0);
  });

  it('drops expired entries as new ones arrive, so memory follows the window', () => {
    const revoked = new RevokedSessions(60_000, clock);
    revoked.add(['a', 'b'], new Date(clock.now()));
    clock.advance(120_000);
    revoked.add(['c'], new Date(clock.now()));
    expect(revoked.size).toBe(1);
  });
});

describe('refusingRevoked', () => {
  const verifier: TokenVerifier = { verify: async (token) => ({ userId: 'u1', sessionId: token, deviceId: 1, expiresAt: new Date(0) }) };

  it('passes callers of live sessions and refuses those of revoked ones with UNAUTHENTICATED', async () => {
    const clock = new ManualClock();
    const revoked = new RevokedSessions(60_000, clock);
    const checked = refusingRevoked(verifier, revoked);
    await expect(checked.verify('live')).resolves.toEqual({ userId: 'u1', sessionId: 'live', deviceId: 1, expiresAt: new Date(0) });
    revoked.add(['gone'], new Date(clock.now()));
    const err = await checked.verify('gone').catch((e: unknown) => e as ConnectError);
    expect(err).toBeInstanceOf(ConnectError);
    expect([(err as ConnectError).code, (err as ConnectError).rawMessage]).toEqual([Code.Unauthenticated, 'session has ended: log in again']);
  });
});
