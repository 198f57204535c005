import { Code, ConnectError } from '@connectrpc/connect';
import { events } from '@parley/platform';
import { PASSWORD, connectErrorOf, eventually, startTestStack, uniqueUsername, withToken, type Accounts, type TestStack } from '@parley/testing';
import { authClients, awaitEvent, fromAddress } from './support/auth-clients.js';

let stack: TestStack;
let auth: ReturnType<typeof authClients>['auth'];
let accounts: Accounts;
let addresses = 0;
/** A fresh client address per test, so address buckets never carry over. */
const address = () => `198.51.100.${++addresses}`;

beforeAll(async () => {
  stack = await startTestStack({
    services: ['auth'],
    env: {
      auth: {
        BCRYPT_COST: '4',
        AUTH_DEV_MODE: 'true',
        LOGIN_FAILURES_PER_ACCOUNT: '3',
        LOGIN_FAILURES_PER_ACCOUNT_REFILL_SECONDS: '3600',
        LOGIN_FAILURES_PER_ADDRESS: '5',
        LOGIN_FAILURES_PER_ADDRESS_REFILL_SECONDS: '3600',
        PASSWORD_RESETS_PER_ACCOUNT: '2',
        PASSWORD_RESETS_PER_ACCOUNT_REFILL_SECONDS: '3600',
        PASSWORD_RESETS_PER_ADDRESS: '4',
        PASSWORD_RESETS_PER_ADDRESS_REFILL_SECONDS: '3600',
      },
    },
  });
  ({ auth, accounts } = authClients(stack));
});

afterAll(() => stack?.cleanup());

/** Code and message of a login, with the wait in seconds blanked out. */
async function loginOutcome(name: string, pw: string, from: string): Promise<[string, string]> {
  return auth.login({ username: name, password: pw, registrationId: 1 }, fromAddress(from)).then(
    () => ['ok', ''],
    (err: unknown) => {
      const e = ConnectError.from(err);
      return [Code[e.code], e.rawMessage.replace(/retry in \d+ s/, 'retry in N s')];
    },
  );
}

describe('failed logins per username', () => {
  it('lock the username after the budget, identically for unknown and known usernames, from any address', async () => {
    const known = (await accounts.register()).username;
    const unknown = `${uniqueUsername()}_nobody`;
    const outcomes = async (name: string) => {
      const from = address();
      const seen: [string, string][] = [];
      for (let i = 0; i < 3; i++) seen.push(await loginOutcome(name, 'not the password', from));
      seen.push(await loginOutcome(name, PASSWORD, from));
      seen.push(await loginOutcome(name, PASSWORD, address()));
      return seen;
    };
    const forKnown = await outcomes(known);
    expect(forKnown).toEqual([
      ['Unauthenticated', 'wrong username or password'],
      ['Unauthenticated', 'wrong username or password'],
      ['Unauthenticated', 'wrong username or password'],
      ['ResourceExhausted', 'too many failed logins for this username; retry in N s'],
      ['ResourceExhausted', 'too many failed logins for this username; retry in N s'],
    ]);
    expect(await outcomes(unknown)).toEqual(forKnown);
  });

  it('say when to retry, and let the username in again once the bucket has refilled', async () => {
    const { username: name } = await accounts.register();
    for (let i = 0; i < 3; i++) await loginOutcome(name, 'not the password', address());
    const locked = await connectErrorOf(auth.login({ username: name, password: PASSWORD, registrationId: 1 }, fromAddress(address())));
    // One attempt comes back every 3600 s and only moments have passed.
    const wait = Number(/retry in (\d+) s$/.exec(locked.rawMessage)?.[1]);
    expect(wait).toBeGreaterThan(3500);
    expect(wait).toBeLessThanOrEqual(3600);
    await stack.query('auth', `update rate_limit_bucket set updated_at = updated_at - interval '1 hour' where subject = $1`, [name]);
    expect(await loginOutcome(name, PASSWORD, address())).toEqual(['ok', '']);
  });

  it('are not spent by successful logins', async () => {
    const { username: name } = await accounts.register();
    const from = address();
    for (let i = 0; i < 5; i++) expect(await loginOutcome(name, PASSWORD, from)).toEqual(['ok', '']);
    for (let i = 0; i < 2; i++) await loginOutcome(name, 'not the password', from);
    expect(await loginOutcome(name, PASSWORD, from)).toEqual(['ok', '']);
  });

  it('are never overspent by concurrent guesses', async () => {
    const { username: name } = await accounts.register();
    const outcomes = await Promise.all(Array.from({ length: 8 }, () => loginOutcome(name, 'not the password', address())));
    expect(outcomes.filter(([code]) => code === 'Unauthenticated')).toHaveLength(3);
    expect(outcomes.filter(([code]) => code === 'ResourceExhausted')).toHaveLength(5);
  });

  it('are also spent by wrong current passwords in ChangePassword', async () => {
    const { username: name, tokens } = await accounts.register();
    const change = () => connectErrorOf(auth.changePassword({ currentPassword: 'not the password', newPassword: 'a brand new passphrase' }, withToken(tokens.accessToken)));
    for (let i = 0; i < 3; i++) expect((await change()).code).toBe(Code.PermissionDenied);
    const locked = await change();
    expect(locked.code).toBe(Code.ResourceExhausted);
    expect(locked.rawMessage).toMatch(/^too many wrong passwords for this account; retry in \d+ s$/);
    expect((await loginOutcome(name, PASSWORD, address()))[1]).toBe('too many failed logins for this username; retry in N s');
  });
});

describe('DeleteAccount with a wrong password', () => {
  it('spends the same budget, so a stolen token is no faster way to guess, and deletes nothing', async () => {
    const { username: name, tokens } = await accounts.register();
    const remove = () => connectErrorOf(auth.deleteAccount({ password: 'not the password' }, withToken(tokens.accessToken)));
    for (let i = 0; i < 3; i++) expect((await remove()).code).toBe(Code.PermissionDenied);
    const locked = await remove();
    expect([locked.code, locked.rawMessage.replace(/retry in \d+ s/, 'retry in N s')]).toEqual([
      Code.ResourceExhausted,
      'too many wrong passwords for this account; retry in N s',
    ]);
    // Even the right password waits for the budget now; the account is still there.
    expect((await connectErrorOf(auth.deleteAccount({ password: PASSWORD }, withToken(tokens.accessToken)))).code).toBe(Code.ResourceExhausted);
    expect((await auth.getMe({}, withToken(tokens.accessToken))).user?.username).toBe(name);
  });
});

describe('failed logins per client address', () => {
  it('lock the address after the budget, across usernames, while other addresses go on', async () => {
    const from = address();
    const victim = await accounts.register();
    for (let i = 0; i < 5; i++) expect((await loginOutcome(uniqueUsername(), 'not the password', from))[0]).toBe('Unauthenticated');
    expect(await loginOutcome(victim.username, PASSWORD, from)).toEqual(['ResourceExhausted', 'too many failed logins from this address; retry in N s']);
    expect(await loginOutcome(victim.username, PASSWORD, address())).toEqual(['ok', '']);
  });

  it('count calls without the edge’s address header under "unknown"', async () => {
    await loginOutcome(uniqueUsername(), 'not the password', address());
    await connectErrorOf(auth.login({ username: uniqueUsername(), password: 'not the password', registrationId: 1 }));
    const rows = await stack.query<{ subject: string }>('auth', `select subject from rate_limit_bucket where policy = 'login-failures-per-address' and subject = 'unknown'`);
    expect(rows).toHaveLength(1);
  });
});

describe('password reset requests', () => {
  it('are limited per username, identically for unknown and known usernames', async () => {
    const known = (await accounts.register()).username;
    const unknown = `${uniqueUsername()}_nobody`;
    const outcomes = async (name: string) => {
      const seen: string[] = [];
      for (let i = 0; i < 3; i++) {
        seen.push(
          await auth.requestPasswordReset({ username: name }, fromAddress(address())).then(
            () => 'ok',
            (err: unknown) => ConnectError.from(err).rawMessage.replace(/\d+ s$/, 'N s'),
          ),
        );
      }
      return seen;
    };
    const forKnown = await outcomes(known);
    expect(forKnown).toEqual(['ok', 'ok', 'too many password reset requests for this username; retry in N s']);
    expect(await outcomes(unknown)).toEqual(forKnown);
  });

  it('are limited per client address', async () => {
    const from = address();
    for (let i = 0; i < 4; i++) await auth.requestPasswordReset({ username: uniqueUsername() }, fromAddress(from));
    const err = await connectErrorOf(auth.requestPasswordReset({ username: uniqueUsername() }, fromAddress(from)));
    expect(err.code).toBe(Code.ResourceExhausted);
    expect(err.rawMessage).toMatch(/^too many password reset requests from this address; retry in \d+ s$/);
  });

  it('log the token with AUTH_DEV_MODE', async () => {
    const { username: name } = await accounts.register();
    await auth.requestPasswordReset({ username: name }, fromAddress(address()));
    const { userId, resetToken: onTheBus } = await awaitEvent(stack, events.passwordResetRequested, (e) => e.username === name);
    expect(onTheBus).toBe('');
    const logged = await eventually(
      async () => stack.services.auth.output.find((line) => line.includes('AUTH_DEV_MODE: password reset token') && line.includes(`"${name}"`)),
      (line) => line !== undefined,
    );
    const { resetToken } = JSON.parse(logged!.slice(logged!.indexOf('{'))) as { resetToken: string };
    await auth.resetPassword({ resetToken, newPassword: 'a brand new passphrase' });
    expect((await auth.login({ username: name, password: 'a brand new passphrase', registrationId: 1 })).user?.id).toBe(userId);
  });
});
