import { Code, ConnectError } from '@connectrpc/connect';
import type { SanctionStanding, TokenVerifier } from '@parley/platform';
import { SanctionKind } from '@parley/proto';
import { ManualClock } from '@parley/testing';
import { BannedUsers, refusingBanned } from './banned-users.js';

const WINDOW_MS = 3_600_000;

function standing(clock: ManualClock, kind: SanctionKind, changedAgoMs = 0, lastsMs?: number): SanctionStanding {
  const now = clock.now();
  return {
    userId: 'u1',
    kind,
    sanctionId: 's1',
    expiresAt: lastsMs === undefined ? null : new Date(now + lastsMs),
    reason: 'spam',
    changedAt: new Date(now - changedAgoMs),
  };
}

describe('BannedUsers', () => {
  let clock: ManualClock;
  beforeEach(() => {
    clock = new ManualClock(Date.parse('2026-12-08T10:00:00Z'));
  });

  it('refuses a temporarily banned user until its expires_at, with no expiry event', () => {
    const banned = new BannedUsers(WINDOW_MS, clock);
    expect(banned.apply(standing(clock, SanctionKind.TEMPORARY_BAN, 0, 60_000))).toBe(true);
    expect(banned.refusal('u1')?.rawMessage).toBe('your account is temporarily banned until 2026-12-08T10:01:00Z (reason: spam)');
    clock.advance(60_000);
    expect(banned.refusal('u1')).toBeUndefined();
  });

  it('lifts a ban on the unban, and a late ban event never brings it back', () => {
    const banned = new BannedUsers(WINDOW_MS, clock);
    banned.apply(standing(clock, SanctionKind.PERMANENT_BAN, 2000));
    expect(banned.apply(standing(clock, SanctionKind.NONE, 1000))).toBe(false);
    expect(banned.refusal('u1')).toBeUndefined();
    expect(banned.apply(standing(clock, SanctionKind.PERMANENT_BAN, 2000))).toBe(false);
    expect(banned.refusal('u1')).toBeUndefined();
  });

  it('lets a restricted or warned user through: only their sends and new conversations are refused, by messaging and auth', () => {
    const banned = new BannedUsers(WINDOW_MS, clock);
    expect(banned.apply(standing(clock, SanctionKind.RESTRICT, 0, 60_000))).toBe(false);
    expect(banned.refusal('u1')).toBeUndefined();
  });

  it('forgets what is no longer a ban once the window has passed, so memory follows the window', () => {
    const banned = new BannedUsers(WINDOW_MS, clock);
    banned.apply(standing(clock, SanctionKind.TEMPORARY_BAN, 0, 60_000));
    clock.advance(WINDOW_MS + 60_000);
    banned.apply({ ...standing(clock, SanctionKind.PERMANENT_BAN), userId: 'u2' });
    expect(banned.size).toBe(1);
  });
});

describe('refusingBanned', () => {
  it('refuses every call of a banned user with PERMISSION_DENIED, and passes others', async () => {
    const clock = new ManualClock();
    const verifier: TokenVerifier = { verify: async (token) => ({ userId: token, sessionId: 's', deviceId: 1, expiresAt: new Date(0) }) };
    const banned = new BannedUsers(WINDOW_MS, clock);
    banned.apply(standing(clock, SanctionKind.PERMANENT_BAN));
    const checked = refusingBanned(verifier, banned);
    await expect(checked.verify('u2')).resolves.toMatchObject({ userId: 'u2' });
    const err = await checked.verify('u1').catch((e: unknown) => e as ConnectError);
    expect([(err as ConnectError).code, (err as ConnectError).rawMessage]).toEqual([Code.PermissionDenied, 'your account is permanently banned (reason: spam)']);
  });
});
