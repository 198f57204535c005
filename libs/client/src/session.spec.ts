import { create } from '@bufbuild/protobuf';
import { timestampFromMs } from '@bufbuild/protobuf/wkt';
import { Code, ConnectError, type Client } from '@connectrpc/connect';
import { RefreshResponseSchema, TokenPairSchema, type AuthService } from '@parley/proto';
import { ManualClock } from '@parley/testing';
import { Emitter } from './emitter';
import { LoggedOutError } from './errors';
import type { ClientEvents } from './events';
import { Session } from './session';
import { MemoryStore } from './store';

const MINUTE = 60_000;

function pair(now: number, n: number) {
  return create(TokenPairSchema, {
    accessToken: `access-${n}`,
    accessTokenExpiresAt: timestampFromMs(now + 15 * MINUTE),
    refreshToken: `refresh-${n}`,
    refreshTokenExpiresAt: timestampFromMs(now + 30 * 24 * 60 * MINUTE),
  });
}

function setUp(refresh: (token: string) => Promise<unknown>) {
  const clock = new ManualClock();
  const events = new Emitter<ClientEvents>();
  const loggedOut: string[] = [];
  events.on('loggedOut', (reason) => loggedOut.push(reason));
  const calls: string[] = [];
  const auth = {
    refresh: async ({ refreshToken }: { refreshToken: string }) => {
      calls.push(refreshToken);
      return refresh(refreshToken);
    },
  } as unknown as Client<typeof AuthService>;
  const session = new Session(auth, new MemoryStore(), clock, events, { refreshMarginMs: MINUTE });
  session.begin({ userId: 'u', username: 'alice', deviceId: 1, deviceSecret: 's' }, pair(clock.now(), 0));
  return { clock, session, calls, loggedOut };
}

describe('Session', () => {
  it('hands out the current token until the refresh margin, then refreshes once for every caller at once', async () => {
    let n = 0;
    const { clock, session, calls } = setUp(async () => create(RefreshResponseSchema, { tokens: pair(clock.now(), ++n) }));
    expect(await session.accessToken()).toBe('access-0');
    // Past the margin on a clock whose timer has not run yet (a suspended laptop): callers refresh.
    const timers = clock.pending();
    expect(timers).toEqual([14 * MINUTE]);
    jest.spyOn(clock, 'now').mockReturnValue(clock.now() + 14 * MINUTE + 1);
    const tokens = await Promise.all([session.accessToken(), session.accessToken(), session.accessToken()]);
    expect(tokens).toEqual(['access-1', 'access-1', 'access-1']);
    expect(calls).toEqual(['refresh-0']);
  });

  it('refreshes on its own one margin before expiry', async () => {
    let n = 0;
    const { clock, session, calls } = setUp(async () => create(RefreshResponseSchema, { tokens: pair(clock.now(), ++n) }));
    clock.advance(14 * MINUTE - 1);
    expect(calls).toEqual([]);
    clock.advance(1);
    await Promise.resolve();
    await new Promise((r) => setImmediate(r));
    expect(calls).toEqual(['refresh-0']);
    expect(session.tokens()?.accessToken).toBe('access-1');
  });

  it('on a refused refresh ends the session and says so once, without trying again', async () => {
    const { clock, session, calls, loggedOut } = setUp(async () => {
      throw new ConnectError('refresh token already used', Code.Unauthenticated);
    });
    jest.spyOn(clock, 'now').mockReturnValue(clock.now() + 15 * MINUTE);
    await expect(Promise.all([session.accessToken(), session.accessToken()])).rejects.toBeInstanceOf(LoggedOutError);
    expect(calls).toEqual(['refresh-0']);
    expect(loggedOut).toHaveLength(1);
    expect(session.tokens()).toBeUndefined();
    expect(clock.pending()).toEqual([]);
    await expect(session.accessToken()).rejects.toBeInstanceOf(LoggedOutError);
  });

  it('keeps the session when the server is unreachable, and retries later', async () => {
    let down = true;
    const { clock, session, calls, loggedOut } = setUp(async () => {
      if (down) throw new ConnectError('connect ECONNREFUSED', Code.Unavailable);
      return create(RefreshResponseSchema, { tokens: pair(clock.now(), 1) });
    });
    clock.advance(14 * MINUTE);
    await new Promise((r) => setImmediate(r));
    expect(calls).toEqual(['refresh-0']);
    expect(loggedOut).toEqual([]);
    expect(session.tokens()?.accessToken).toBe('access-0');
    expect(clock.pending()).toHaveLength(1);
    down = false;
    clock.advance(clock.pending()[0]!);
    await new Promise((r) => setImmediate(r));
    expect(calls).toEqual(['refresh-0', 'refresh-0']);
    expect(session.tokens()?.accessToken).toBe('access-1');
  });
});
