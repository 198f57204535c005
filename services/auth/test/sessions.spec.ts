import { Code } from '@connectrpc/connect';
import { timestampDate } from '@bufbuild/protobuf/wkt';
import { events } from '@parley/platform';
import { connectErrorOf, startTestStack, withToken, type Accounts, type TestStack } from '@parley/testing';
import { authClients, awaitEvent } from './support/auth-clients.js';

let stack: TestStack;
let auth: ReturnType<typeof authClients>['auth'];
let accounts: Accounts;

beforeAll(async () => {
  stack = await startTestStack({ services: ['auth'], env: { auth: { BCRYPT_COST: '4' } } });
  ({ auth, accounts } = authClients(stack));
});

afterAll(() => stack?.cleanup());

/** An account with `count` sessions on its primary device; the first is the registration's. */
async function accountWithSessions(count: number) {
  const first = await accounts.register({ deviceName: 'Pixel 9' });
  const tokens = [first.tokens];
  for (let i = 1; i < count; i++) tokens.push((await accounts.logIn(first.username, { again: first })).tokens);
  return { name: first.username, userId: first.userId, tokens };
}

async function works(accessToken: string): Promise<boolean> {
  return auth.getMe({}, withToken(accessToken)).then(
    () => true,
    () => false,
  );
}

async function sessionIds(accessToken: string): Promise<string[]> {
  return (await auth.listSessions({}, withToken(accessToken))).sessions.map((s) => s.id);
}

describe('ListSessions', () => {
  it('lists the account’s open sessions with their devices, marks the caller’s, and leaves out ended ones', async () => {
    const a = await accountWithSessions(3);
    const other = await accountWithSessions(1);
    const refreshed = await auth.refresh({ refreshToken: a.tokens[1]!.refreshToken });
    await auth.logout({}, withToken(a.tokens[2]!.accessToken));

    const { sessions } = await auth.listSessions({}, withToken(a.tokens[0]!.accessToken));
    expect(sessions).toHaveLength(2);
    expect(sessions.map((s) => s.current)).toEqual([true, false]);
    for (const s of sessions) expect(s).toMatchObject({ deviceId: 1, deviceName: 'Pixel 9' });
    expect(sessions[0]!.lastRefreshedAt).toBeUndefined();
    expect(timestampDate(sessions[1]!.lastRefreshedAt!).getTime()).toBeGreaterThanOrEqual(timestampDate(sessions[1]!.createdAt!).getTime());
    expect(await sessionIds(other.tokens[0]!.accessToken)).toHaveLength(1);
    expect(await sessionIds(other.tokens[0]!.accessToken)).not.toContain(sessions[0]!.id);
    // The session refreshed above is the one listed second, and it is current for its own tokens.
    const fromSecond = await auth.listSessions({}, withToken(refreshed.tokens!.accessToken));
    expect(fromSecond.sessions.find((s) => s.current)?.id).toBe(sessions[1]!.id);
  });

  it('needs a live session', async () => {
    expect((await connectErrorOf(auth.listSessions({}))).code).toBe(Code.Unauthenticated);
    const a = await accountWithSessions(1);
    await auth.logout({}, withToken(a.tokens[0]!.accessToken));
    expect((await connectErrorOf(auth.listSessions({}, withToken(a.tokens[0]!.accessToken)))).code).toBe(Code.Unauthenticated);
  });
});

describe('RevokeSession', () => {
  it('ends one session of the caller’s account: its tokens stop working, the others go on', async () => {
    const a = await accountWithSessions(3);
    const [mine, target] = await sessionIds(a.tokens[0]!.accessToken);
    expect(mine).toBeDefined();
    await auth.revokeSession({ sessionId: target! }, withToken(a.tokens[0]!.accessToken));
    expect(await works(a.tokens[1]!.accessToken)).toBe(false);
    expect((await connectErrorOf(auth.refresh({ refreshToken: a.tokens[1]!.refreshToken }))).code).toBe(Code.Unauthenticated);
    expect(await works(a.tokens[0]!.accessToken)).toBe(true);
    expect(await works(a.tokens[2]!.accessToken)).toBe(true);
    expect(await sessionIds(a.tokens[0]!.accessToken)).not.toContain(target);
    const again = await connectErrorOf(auth.revokeSession({ sessionId: target! }, withToken(a.tokens[0]!.accessToken)));
    expect(again.code).toBe(Code.NotFound);
  });

  it('answers NOT_FOUND for another user’s session, exactly as for one that does not exist, and leaves it open', async () => {
    const a = await accountWithSessions(1);
    const victim = await accountWithSessions(1);
    const [victimSession] = await sessionIds(victim.tokens[0]!.accessToken);
    const err = await connectErrorOf(auth.revokeSession({ sessionId: victimSession! }, withToken(a.tokens[0]!.accessToken)));
    const missing = '00000000-0000-4000-8000-000000000000';
    const none = await connectErrorOf(auth.revokeSession({ sessionId: missing }, withToken(a.tokens[0]!.accessToken)));
    expect(err.code).toBe(Code.NotFound);
    expect(none.code).toBe(Code.NotFound);
    expect(err.rawMessage.replace(victimSession!, 'ID')).toBe(none.rawMessage.replace(missing, 'ID'));
    expect(await works(victim.tokens[0]!.accessToken)).toBe(true);
  });

  it('checks the id and needs a live session', async () => {
    const a = await accountWithSessions(1);
    const bad = await connectErrorOf(auth.revokeSession({ sessionId: 'nope' }, withToken(a.tokens[0]!.accessToken)));
    expect([bad.code, bad.rawMessage]).toEqual([Code.InvalidArgument, 'invalid request: session_id: must be a valid UUID [string.uuid]']);
    expect((await connectErrorOf(auth.revokeSession({ sessionId: '' }, withToken(a.tokens[0]!.accessToken)))).rawMessage).toBe('invalid request: session_id: value is empty, which is not a valid UUID [string.uuid_empty]');
    const [own] = await sessionIds(a.tokens[0]!.accessToken);
    expect((await connectErrorOf(auth.revokeSession({ sessionId: own! }))).code).toBe(Code.Unauthenticated);
  });
});

describe('LogoutEverywhere', () => {
  it('ends every session of the account, the caller’s included, announces them, and touches no other account', async () => {
    const a = await accountWithSessions(3);
    const other = await accountWithSessions(1);
    const ids = await sessionIds(a.tokens[0]!.accessToken);
    const res = await auth.logoutEverywhere({}, withToken(a.tokens[0]!.accessToken));
    expect(res.revokedSessions).toBe(3);
    for (const t of a.tokens) {
      expect(await works(t.accessToken)).toBe(false);
      expect((await connectErrorOf(auth.refresh({ refreshToken: t.refreshToken }))).code).toBe(Code.Unauthenticated);
    }
    expect(await works(other.tokens[0]!.accessToken)).toBe(true);
    const event = await awaitEvent(stack, events.sessionsRevoked, (e) => e.userId === a.userId);
    expect([...event.sessionIds].sort()).toEqual([...ids].sort());
    expect((await connectErrorOf(auth.logoutEverywhere({}, withToken(a.tokens[0]!.accessToken)))).code).toBe(Code.Unauthenticated);
  });

  it('needs an access token', async () => {
    expect((await connectErrorOf(auth.logoutEverywhere({}))).code).toBe(Code.Unauthenticated);
  });
});

describe('refresh-token reuse', () => {
  it('revokes the whole family: the later tokens of that session stop working, other sessions go on', async () => {
    const a = await accountWithSessions(2);
    const first = a.tokens[0]!;
    const second = (await auth.refresh({ refreshToken: first.refreshToken })).tokens!;
    const third = (await auth.refresh({ refreshToken: second.refreshToken })).tokens!;
    expect(await works(third.accessToken)).toBe(true);

    const reuse = await connectErrorOf(auth.refresh({ refreshToken: second.refreshToken }));
    expect([reuse.code, reuse.rawMessage]).toEqual([Code.Unauthenticated, 'refresh token was already used, so its session has been revoked: log in again']);
    expect(await works(third.accessToken)).toBe(false);
    expect((await connectErrorOf(auth.refresh({ refreshToken: third.refreshToken }))).code).toBe(Code.Unauthenticated);
    expect(await works(a.tokens[1]!.accessToken)).toBe(true);
    expect(await sessionIds(a.tokens[1]!.accessToken)).toHaveLength(1);
  });
});
