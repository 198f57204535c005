import { createHash, randomUUID } from 'node:crypto';
import { toBinary } from '@bufbuild/protobuf';
import { Code } from '@connectrpc/connect';
import { timestampDate } from '@bufbuild/protobuf/wkt';
import { events } from '@parley/platform';
import { PasswordResetRequestedSchema } from '@parley/proto';
import { PASSWORD, connectErrorOf, startTestStack, uniqueUsername, withToken, type Accounts, type TestStack } from '@parley/testing';
import { authClients, awaitEvent, eventsOf } from './support/auth-clients.js';

let stack: TestStack;
let auth: ReturnType<typeof authClients>['auth'];
let internal: ReturnType<typeof authClients>['internal'];
let accounts: Accounts;
const newPassword = 'a brand new passphrase';

beforeAll(async () => {
  stack = await startTestStack({ services: ['auth'], env: { auth: { BCRYPT_COST: '4' } } });
  ({ auth, internal, accounts } = authClients(stack));
});

afterAll(() => stack?.cleanup());

async function works(accessToken: string): Promise<boolean> {
  return auth.getMe({}, withToken(accessToken)).then(
    () => true,
    () => false,
  );
}

/** Asks for a reset and gets its token as the mailer does: the reset's id from the stream, then the token from auth. */
async function resetTokenFor(name: string): Promise<{ token: string; expiresAt: Date; userId: string; resetId: string }> {
  const before = new Set((await eventsOf(stack, events.passwordResetRequested)).map((e) => e.resetId));
  await auth.requestPasswordReset({ username: name });
  const event = await awaitEvent(stack, events.passwordResetRequested, (e) => e.username === name && !before.has(e.resetId));
  const issued = await internal.issuePasswordResetToken({ resetId: event.resetId });
  expect(timestampDate(issued.expiresAt!)).toEqual(timestampDate(event.expiresAt!));
  return { token: issued.resetToken, expiresAt: timestampDate(event.expiresAt!), userId: event.userId, resetId: event.resetId };
}

describe('ChangePassword', () => {
  it('sets the new password and ends every other session of the account, keeping the caller’s', async () => {
    const a = await accounts.register();
    const second = (await auth.login({ username: a.username, password: PASSWORD, registrationId: 1 })).tokens!;
    const third = (await auth.login({ username: a.username, password: PASSWORD, registrationId: 1 })).tokens!;
    const other = await accounts.register();

    const res = await auth.changePassword({ currentPassword: PASSWORD, newPassword }, withToken(a.tokens.accessToken));
    expect(res.revokedSessions).toBe(2);
    expect(await works(a.tokens.accessToken)).toBe(true);
    expect(await works(second.accessToken)).toBe(false);
    expect(await works(third.accessToken)).toBe(false);
    expect((await connectErrorOf(auth.refresh({ refreshToken: second.refreshToken }))).code).toBe(Code.Unauthenticated);
    expect((await connectErrorOf(auth.login({ username: a.username, password: PASSWORD, registrationId: 1 }))).code).toBe(Code.Unauthenticated);
    await expect(auth.login({ username: a.username, password: newPassword, registrationId: 1 })).resolves.toMatchObject({ user: { id: a.userId } });
    // Another account is untouched.
    expect(await works(other.tokens.accessToken)).toBe(true);
    await expect(auth.login({ username: other.username, password: PASSWORD, registrationId: 1 })).resolves.toMatchObject({ user: { id: other.userId } });
  });

  it('refuses a wrong current password with PERMISSION_DENIED and changes nothing', async () => {
    const a = await accounts.register();
    const second = (await auth.login({ username: a.username, password: PASSWORD, registrationId: 1 })).tokens!;
    const err = await connectErrorOf(auth.changePassword({ currentPassword: 'not the password', newPassword }, withToken(a.tokens.accessToken)));
    expect([err.code, err.rawMessage]).toEqual([Code.PermissionDenied, 'current_password is wrong']);
    expect(await works(second.accessToken)).toBe(true);
    await expect(auth.login({ username: a.username, password: PASSWORD, registrationId: 1 })).resolves.toBeDefined();
  });

  it('applies the password policy to the new password', async () => {
    const a = await accounts.register();
    const change = (next: string, current = PASSWORD) => connectErrorOf(auth.changePassword({ currentPassword: current, newPassword: next }, withToken(a.tokens.accessToken)));
    expect((await change('password123')).rawMessage).toBe('password is too common: choose another');
    expect((await change('short')).rawMessage).toBe('password must be at least 10 characters');
    expect((await change(`${a.username}-passphrase`)).rawMessage).toBe('password must not contain the username');
    const same = await change(PASSWORD);
    expect([same.code, same.rawMessage]).toEqual([Code.InvalidArgument, 'new_password must differ from the current password']);
    expect((await change(newPassword, '')).rawMessage).toBe('invalid request: current_password: value is required [required]');
  });

  it('needs a live session', async () => {
    expect((await connectErrorOf(auth.changePassword({ currentPassword: PASSWORD, newPassword }))).code).toBe(Code.Unauthenticated);
    const a = await accounts.register();
    await auth.logout({}, withToken(a.tokens.accessToken));
    const err = await connectErrorOf(auth.changePassword({ currentPassword: PASSWORD, newPassword }, withToken(a.tokens.accessToken)));
    expect([err.code, err.rawMessage]).toEqual([Code.Unauthenticated, 'session has ended: log in again']);
    await expect(auth.login({ username: a.username, password: PASSWORD, registrationId: 1 })).resolves.toBeDefined();
  });
});

describe('RequestPasswordReset', () => {
  it('announces the reset without its token, hands the token to the mailer once, and stores only its SHA-256', async () => {
    const a = await accounts.register();
    const requestedAt = Date.now();
    const { token, expiresAt, userId } = await resetTokenFor(a.username);
    expect(userId).toBe(a.userId);
    expect(token).toMatch(/^[A-Za-z0-9_-]{43}$/);
    // PASSWORD_RESET_TTL_SECONDS defaults to 1800.
    expect(expiresAt.getTime()).toBeGreaterThanOrEqual(requestedAt + 1790_000);
    expect(expiresAt.getTime()).toBeLessThanOrEqual(Date.now() + 1800_000);
    const rows = await stack.query<{ token_hash: string; user_id: string }>('auth', 'select token_hash, user_id from password_reset_token where user_id = $1', [a.userId]);
    expect(rows).toEqual([{ token_hash: createHash('sha256').update(token).digest('hex'), user_id: a.userId }]);
    const [event] = (await eventsOf(stack, events.passwordResetRequested)).filter((e) => e.userId === a.userId);
    expect(event!.resetToken).toBe('');
    expect(toBinary(PasswordResetRequestedSchema, event!).toString()).not.toContain(token);
    const again = await connectErrorOf(internal.issuePasswordResetToken({ resetId: event!.resetId }));
    expect([again.code, again.rawMessage]).toEqual([Code.FailedPrecondition, "this password reset's token was already issued: it is handed out once"]);
  });

  it('hands out no token for an unknown, expired or used reset', async () => {
    const unknown = randomUUID();
    const none = await connectErrorOf(internal.issuePasswordResetToken({ resetId: unknown }));
    expect([none.code, none.rawMessage]).toEqual([Code.NotFound, `no password reset has id ${unknown}`]);
    expect((await connectErrorOf(internal.issuePasswordResetToken({ resetId: 'x' }))).code).toBe(Code.InvalidArgument);
    const a = await accounts.register();
    await auth.requestPasswordReset({ username: a.username });
    const { resetId } = await awaitEvent(stack, events.passwordResetRequested, (e) => e.userId === a.userId);
    await stack.query('auth', `update password_reset_token set expires_at = now() - interval '1 second' where id = $1`, [resetId]);
    const expired = await connectErrorOf(internal.issuePasswordResetToken({ resetId }));
    expect([expired.code, expired.rawMessage]).toEqual([Code.FailedPrecondition, 'this password reset has expired']);
  });

  it('answers an unknown username exactly as a known one, and issues nothing for it', async () => {
    const unknown = `${uniqueUsername()}_nobody`;
    const a = await accounts.register();
    const tokensBefore = await stack.query('auth', 'select id from password_reset_token');
    const [forUnknown, forKnown] = await Promise.all([unknown, a.username].map((name) => auth.requestPasswordReset({ username: name })));
    expect(forUnknown).toEqual(forKnown);
    await awaitEvent(stack, events.passwordResetRequested, (e) => e.username === a.username);
    expect(await stack.query('auth', 'select id from password_reset_token')).toHaveLength(tokensBefore.length + 1);
    expect((await eventsOf(stack, events.passwordResetRequested)).filter((e) => e.username === unknown)).toEqual([]);
  });

  it('checks the username’s form', async () => {
    expect((await connectErrorOf(auth.requestPasswordReset({ username: '' }))).rawMessage).toBe('invalid request: username: value is required [required]');
    expect((await connectErrorOf(auth.requestPasswordReset({ username: 'no spaces allowed' }))).code).toBe(Code.InvalidArgument);
  });

  it('does not log the token outside AUTH_DEV_MODE', async () => {
    const a = await accounts.register();
    const { token } = await resetTokenFor(a.username);
    expect(stack.services.auth.output.join('\n')).not.toContain(token);
  });
});

describe('ResetPassword', () => {
  it('sets the new password, ends every session of the account, and works once', async () => {
    const a = await accounts.register();
    const second = (await auth.login({ username: a.username, password: PASSWORD, registrationId: 1 })).tokens!;
    const { token } = await resetTokenFor(a.username);

    await auth.resetPassword({ resetToken: token, newPassword });
    expect(await works(a.tokens.accessToken)).toBe(false);
    expect(await works(second.accessToken)).toBe(false);
    expect((await connectErrorOf(auth.refresh({ refreshToken: second.refreshToken }))).code).toBe(Code.Unauthenticated);
    expect((await connectErrorOf(auth.login({ username: a.username, password: PASSWORD, registrationId: 1 }))).code).toBe(Code.Unauthenticated);
    await expect(auth.login({ username: a.username, password: newPassword, registrationId: 1 })).resolves.toMatchObject({ user: { id: a.userId } });

    const again = await connectErrorOf(auth.resetPassword({ resetToken: token, newPassword: 'yet another passphrase' }));
    expect([again.code, again.rawMessage]).toEqual([Code.FailedPrecondition, 'reset token was already used: ask for a new one with RequestPasswordReset']);
    await expect(auth.login({ username: a.username, password: newPassword, registrationId: 1 })).resolves.toBeDefined();
  });

  it('refuses an expired token', async () => {
    const a = await accounts.register();
    const { token } = await resetTokenFor(a.username);
    await stack.query('auth', `update password_reset_token set expires_at = now() - interval '1 second' where user_id = $1`, [a.userId]);
    const err = await connectErrorOf(auth.resetPassword({ resetToken: token, newPassword }));
    expect([err.code, err.rawMessage]).toEqual([Code.FailedPrecondition, 'reset token has expired: ask for a new one with RequestPasswordReset']);
    await expect(auth.login({ username: a.username, password: PASSWORD, registrationId: 1 })).resolves.toBeDefined();
  });

  it('refuses an unknown or missing token', async () => {
    const unknown = await connectErrorOf(auth.resetPassword({ resetToken: 'A'.repeat(43), newPassword }));
    expect([unknown.code, unknown.rawMessage]).toEqual([Code.NotFound, 'unknown reset token: check it, or ask for a new one with RequestPasswordReset']);
    expect((await connectErrorOf(auth.resetPassword({ resetToken: '', newPassword }))).rawMessage).toBe('invalid request: reset_token: value is required [required]');
    expect((await connectErrorOf(auth.resetPassword({ resetToken: 'x', newPassword: '' }))).rawMessage).toBe('invalid request: new_password: value is required [required]');
  });

  it('applies the password policy, and a refused password leaves the token usable', async () => {
    const a = await accounts.register();
    const { token } = await resetTokenFor(a.username);
    const err = await connectErrorOf(auth.resetPassword({ resetToken: token, newPassword: 'qwertyuiop' }));
    expect([err.code, err.rawMessage]).toEqual([Code.InvalidArgument, 'password is too common: choose another']);
    await auth.resetPassword({ resetToken: token, newPassword });
    await expect(auth.login({ username: a.username, password: newPassword, registrationId: 1 })).resolves.toBeDefined();
  });

  it('lets only one of two concurrent uses of a token succeed', async () => {
    const a = await accounts.register();
    const { token } = await resetTokenFor(a.username);
    const results = await Promise.allSettled(['first new passphrase', 'second new passphrase'].map((p) => auth.resetPassword({ resetToken: token, newPassword: p })));
    expect(results.filter((r) => r.status === 'fulfilled')).toHaveLength(1);
  });

  it('a password change spends the reset tokens asked for before it', async () => {
    const a = await accounts.register();
    const { token } = await resetTokenFor(a.username);
    await auth.changePassword({ currentPassword: PASSWORD, newPassword }, withToken(a.tokens.accessToken));
    const err = await connectErrorOf(auth.resetPassword({ resetToken: token, newPassword: 'attacker chosen passphrase' }));
    expect(err.code).toBe(Code.FailedPrecondition);
    await expect(auth.login({ username: a.username, password: newPassword, registrationId: 1 })).resolves.toBeDefined();
  });
});

describe('UpdateProfile', () => {
  it('sets and clears the caller’s display name and avatar, and GetMe shows them', async () => {
    const a = await accounts.register();
    const other = await accounts.register();
    const res = await auth.updateProfile({ displayName: '  Zoe\u0301 Q ', avatarMediaId: 'media_01-AB' }, withToken(a.tokens.accessToken));
    expect(res.user).toMatchObject({ id: a.userId, displayName: 'Zoé Q', avatarMediaId: 'media_01-AB' });
    await expect(auth.getMe({}, withToken(a.tokens.accessToken))).resolves.toMatchObject({ user: { displayName: 'Zoé Q', avatarMediaId: 'media_01-AB' } });
    await expect(auth.getMe({}, withToken(other.tokens.accessToken))).resolves.toMatchObject({ user: { displayName: '', avatarMediaId: '' } });

    const cleared = await auth.updateProfile({ displayName: '', avatarMediaId: '' }, withToken(a.tokens.accessToken));
    expect(cleared.user).toMatchObject({ displayName: '', avatarMediaId: '' });
  });

  it('refuses bad input with INVALID_ARGUMENT and keeps the old profile', async () => {
    const a = await accounts.register();
    await auth.updateProfile({ displayName: 'Ann', avatarMediaId: 'a1' }, withToken(a.tokens.accessToken));
    const long = await connectErrorOf(auth.updateProfile({ displayName: 'x'.repeat(65), avatarMediaId: '' }, withToken(a.tokens.accessToken)));
    expect([long.code, long.rawMessage]).toEqual([Code.InvalidArgument, 'invalid request: display_name: must be at most 64 characters [string.max_len]']);
    const control = await connectErrorOf(auth.updateProfile({ displayName: 'Ann\u0007', avatarMediaId: '' }, withToken(a.tokens.accessToken)));
    expect(control.rawMessage).toMatch(/^invalid request: display_name: .*\[string\.pattern\]$/);
    const avatar = await connectErrorOf(auth.updateProfile({ displayName: 'Ann', avatarMediaId: 'a/b' }, withToken(a.tokens.accessToken)));
    expect(avatar.rawMessage).toMatch(/^invalid request: avatar_media_id: .*\[string\.pattern\]$/);
    await expect(auth.getMe({}, withToken(a.tokens.accessToken))).resolves.toMatchObject({ user: { displayName: 'Ann', avatarMediaId: 'a1' } });
  });

  it('needs a live session', async () => {
    expect((await connectErrorOf(auth.updateProfile({ displayName: 'x', avatarMediaId: '' }))).code).toBe(Code.Unauthenticated);
    const a = await accounts.register();
    await auth.logout({}, withToken(a.tokens.accessToken));
    expect((await connectErrorOf(auth.updateProfile({ displayName: 'x', avatarMediaId: '' }, withToken(a.tokens.accessToken)))).code).toBe(Code.Unauthenticated);
  });
});
