import { create } from '@bufbuild/protobuf';
import { timestampFromDate } from '@bufbuild/protobuf/wkt';
import { Code } from '@connectrpc/connect';
import { SanctionChangedSchema, SanctionKind, SanctionNoticeSchema } from '@parley/proto';
import { isBanned, kindInForce, sanctionRefusal, standingOf, supersedes, type SanctionStanding } from './sanction-standing.js';

const NOW = Date.parse('2026-12-08T10:00:00Z');
const UNTIL = new Date('2026-12-09T10:00:00Z');

function standing(kind: SanctionKind, extra: Partial<SanctionStanding> = {}): SanctionStanding {
  return { userId: 'u1', kind, sanctionId: 's1', expiresAt: null, reason: 'spam', changedAt: new Date(NOW - 60_000), ...extra };
}

describe('standingOf', () => {
  it('reads the event, and refuses one without changed_at (it could not be ordered)', () => {
    const event = create(SanctionChangedSchema, {
      userId: 'u1',
      sanctionId: 's1',
      kind: SanctionKind.TEMPORARY_BAN,
      expiresAt: timestampFromDate(UNTIL),
      reason: 'spam',
      changedAt: timestampFromDate(new Date(NOW)),
    });
    expect(standingOf(event)).toEqual({ userId: 'u1', sanctionId: 's1', kind: SanctionKind.TEMPORARY_BAN, expiresAt: UNTIL, reason: 'spam', changedAt: new Date(NOW) });
    expect(() => standingOf(create(SanctionChangedSchema, { userId: 'u1', kind: SanctionKind.NONE }))).toThrow(/no changed_at/);
  });
});

describe('kindInForce', () => {
  it('ends a temporary standing once expires_at has passed, with no expiry event', () => {
    const ban = standing(SanctionKind.TEMPORARY_BAN, { expiresAt: UNTIL });
    expect(kindInForce(ban, UNTIL.getTime() - 1)).toBe(SanctionKind.TEMPORARY_BAN);
    expect(kindInForce(ban, UNTIL.getTime())).toBe(SanctionKind.NONE);
    expect(isBanned(ban, UNTIL.getTime() - 1)).toBe(true);
    expect(isBanned(ban, UNTIL.getTime())).toBe(false);
  });

  it('keeps a permanent ban, and reads no standing as NONE', () => {
    expect(kindInForce(standing(SanctionKind.PERMANENT_BAN), NOW + 1e12)).toBe(SanctionKind.PERMANENT_BAN);
    expect(kindInForce(undefined, NOW)).toBe(SanctionKind.NONE);
  });
});

describe('supersedes', () => {
  it('takes only a later change, so a late event never undoes a newer one', () => {
    const ban = standing(SanctionKind.TEMPORARY_BAN, { changedAt: new Date(NOW) });
    const unban = standing(SanctionKind.NONE, { changedAt: new Date(NOW + 1) });
    expect(supersedes(ban, undefined)).toBe(true);
    expect(supersedes(unban, ban)).toBe(true);
    expect(supersedes(ban, unban)).toBe(false);
    expect(supersedes(ban, ban)).toBe(false);
  });
});

describe('sanctionRefusal', () => {
  it('refuses everything of a temporary ban with PERMISSION_DENIED, saying until when and why, and a SanctionNotice', () => {
    const ban = standing(SanctionKind.TEMPORARY_BAN, { expiresAt: UNTIL });
    for (const action of ['login', 'access', 'send', 'start_conversation', 'contact_request'] as const) {
      const err = sanctionRefusal(ban, action, NOW);
      expect([err?.code, err?.rawMessage]).toEqual([Code.PermissionDenied, 'your account is temporarily banned until 2026-12-09T10:00:00Z (reason: spam)']);
    }
    const [notice] = sanctionRefusal(ban, 'login', NOW)!.findDetails(SanctionNoticeSchema);
    expect(notice).toMatchObject({ kind: SanctionKind.TEMPORARY_BAN, reason: 'spam', sanctionId: 's1', expiresAt: timestampFromDate(UNTIL) });
  });

  it("words moderation's reason codes for people", () => {
    const err = sanctionRefusal(standing(SanctionKind.PERMANENT_BAN, { reason: 'HATE_SPEECH' }), 'login', NOW);
    expect(err?.rawMessage).toBe('your account is permanently banned (reason: hate speech)');
  });

  it('says a permanent ban has no end', () => {
    expect(sanctionRefusal(standing(SanctionKind.PERMANENT_BAN), 'login', NOW)?.rawMessage).toBe('your account is permanently banned (reason: spam)');
  });

  it('refuses sends, new conversations and contact requests of a restricted user, but not logins or other calls', () => {
    const restricted = standing(SanctionKind.RESTRICT, { expiresAt: UNTIL, reason: '' });
    expect(sanctionRefusal(restricted, 'send', NOW)?.rawMessage).toBe(
      'your account is restricted until 2026-12-09T10:00:00Z: you cannot send messages, start conversations or send contact requests',
    );
    expect(sanctionRefusal(restricted, 'start_conversation', NOW)?.code).toBe(Code.PermissionDenied);
    expect(sanctionRefusal(restricted, 'contact_request', NOW)?.code).toBe(Code.PermissionDenied);
    expect(sanctionRefusal(restricted, 'login', NOW)).toBeUndefined();
    expect(sanctionRefusal(restricted, 'access', NOW)).toBeUndefined();
  });

  it('refuses nothing for a warning, an unban, an expired sanction or no standing', () => {
    expect(sanctionRefusal(standing(SanctionKind.WARN), 'send', NOW)).toBeUndefined();
    expect(sanctionRefusal(standing(SanctionKind.NONE), 'login', NOW)).toBeUndefined();
    expect(sanctionRefusal(standing(SanctionKind.TEMPORARY_BAN, { expiresAt: new Date(NOW) }), 'login', NOW)).toBeUndefined();
    expect(sanctionRefusal(undefined, 'login', NOW)).toBeUndefined();
  });
});
