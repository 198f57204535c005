import { Code } from '@connectrpc/connect';
import { SignJWT, importJWK, type JWK } from 'jose';
import { ACCESS_TOKEN_AUDIENCE, ACCESS_TOKEN_ISSUER, createTokenVerifier, type JwksSource } from './access-token.js';
import { newSigningKey } from './signing-key.js';
import { ManualClock, connectErrorOf } from '@parley/testing';

interface Key {
  kid: string;
  privateJwk: JWK;
  publicJwk: JWK;
}

function makeKey(): Key {
  const privateJwk = JSON.parse(newSigningKey()) as JWK & { kid: string };
  const { d: _d, ...publicJwk } = privateJwk;
  return { kid: privateJwk.kid, privateJwk, publicJwk };
}

interface TokenOptions {
  issuer?: string;
  audience?: string;
  expiresAt?: number;
  kid?: string;
  claims?: Record<string, unknown>;
}

/** The time every verifier in a test reads; tokens are issued by it too. */
let clock: ManualClock;

async function sign(key: Key, opts: TokenOptions = {}): Promise<string> {
  const now = Math.floor(clock.now() / 1000);
  return new SignJWT({ sid: 'session-1', did: 2, ...opts.claims })
    .setProtectedHeader({ alg: 'EdDSA', kid: opts.kid ?? key.kid })
    .setSubject('user-1')
    .setIssuer(opts.issuer ?? ACCESS_TOKEN_ISSUER)
    .setAudience(opts.audience ?? ACCESS_TOKEN_AUDIENCE)
    .setIssuedAt(now - 60)
    .setExpirationTime(opts.expiresAt ?? now + 600)
    .sign(await importJWK(key.privateJwk, 'EdDSA'));
}

/** A JWKS source whose keys the test sets, counting fetches. */
function source(initial: Key[]) {
  const state = { keys: initial, calls: 0 };
  const fetch: JwksSource = async () => {
    state.calls++;
    return state.keys.map((k) => k.publicJwk);
  };
  return { state, fetch };
}

describe('createTokenVerifier', () => {
  const key = makeKey();

  beforeEach(() => {
    clock = new ManualClock();
  });
  afterEach(() => jest.restoreAllMocks());

  it('refuses a dropped key at once, remembered tokens included, even when a refetch still serves it', async () => {
    const retired = makeKey();
    const { state, fetch } = source([key, retired]);
    const verifier = createTokenVerifier(fetch, { clock, minRefetchMs: 0 });
    const old = await sign(retired);
    await expect(verifier.verify(old)).resolves.toMatchObject({ userId: 'user-1' });
    verifier.dropKey!(retired.kid);
    expect((await connectErrorOf(verifier.verify(old))).rawMessage).toBe('invalid access token: log in again');
    // An auth replica not yet restarted still publishes it: refetched, and still refused.
    const fetches = state.calls;
    clock.advance(1);
    expect((await connectErrorOf(verifier.verify(old))).code).toBe(Code.Unauthenticated);
    expect(state.calls).toBe(fetches + 1);
    await expect(verifier.verify(await sign(key))).resolves.toMatchObject({ userId: 'user-1' });
  });

  it('answers UNAVAILABLE, not INTERNAL, when it has no keys and cannot fetch them', async () => {
    const verifier = createTokenVerifier(
      async () => {
        throw new Error('connect ECONNREFUSED 10.0.0.7:50051');
      },
      { clock },
    );
    const err = await connectErrorOf(verifier.verify(await sign(key)));
    expect([err.code, err.rawMessage]).toEqual([Code.Unavailable, 'cannot check access tokens right now; retry shortly']);
  });

  it('turns a valid token into the caller', async () => {
    const verifier = createTokenVerifier(source([key]).fetch, { clock });
    await expect(verifier.verify(await sign(key))).resolves.toEqual({ userId: 'user-1', sessionId: 'session-1', deviceId: 2, expiresAt: expect.any(Date) });
  });

  it('tells the caller to refresh an expired token', async () => {
    const verifier = createTokenVerifier(source([key]).fetch, { clock });
    const token = await sign(key, { expiresAt: Math.floor(clock.now() / 1000) + 600 });
    await verifier.verify(token);
    clock.advance(600_000);
    const err = await connectErrorOf(verifier.verify(token));
    expect(err.code).toBe(Code.Unauthenticated);
    expect(err.rawMessage).toMatch(/Refresh/);
  });

  const other = makeKey();
  it.each<[string, () => Promise<string>]>([
    ['a wrong issuer', () => sign(key, { issuer: 'someone-else' })],
    ['a wrong audience', () => sign(key, { audience: 'other-app' })],
    ['no session claim', () => sign(key, { claims: { sid: undefined } })],
    ['no device claim', () => sign(key, { claims: { did: undefined } })],
    ['a device id out of range', () => sign(key, { claims: { did: 128 } })],
    ['a fractional device id', () => sign(key, { claims: { did: 1.5 } })],
    [
      'a tampered payload',
      async () => {
        const [h, p, s] = (await sign(key)).split('.');
        const claims = JSON.parse(Buffer.from(p!, 'base64url').toString()) as Record<string, unknown>;
        const forged = Buffer.from(JSON.stringify({ ...claims, sub: 'admin' })).toString('base64url');
        return `${h}.${forged}.${s}`;
      },
    ],
    ['an unknown key', () => sign(other)],
    ['an unknown key that claims a known kid', () => sign(other, { kid: key.kid })],
    ['garbage', async () => 'not-a-jwt'],
  ])('rejects a token with %s as invalid', async (_what, token) => {
    const verifier = createTokenVerifier(source([key]).fetch, { clock });
    const err = await connectErrorOf(verifier.verify(await token()));
    expect(err.code).toBe(Code.Unauthenticated);
    expect(err.rawMessage).toMatch(/^invalid access token/);
  });

  it('checks a token once, then answers from memory until it expires', async () => {
    const verifier = createTokenVerifier(source([key]).fetch, { clock });
    const token = await sign(key, { expiresAt: Math.floor(clock.now() / 1000) + 120 });
    const signatureChecks = jest.spyOn(globalThis.crypto.subtle, 'verify');
    const first = await verifier.verify(token);
    await expect(verifier.verify(token)).resolves.toBe(first);
    expect(signatureChecks).toHaveBeenCalledTimes(1);
    clock.advance(120_000);
    expect((await connectErrorOf(verifier.verify(token))).rawMessage).toMatch(/expired/);
  });

  it('forgets every remembered token when the key set is refetched', async () => {
    const src = source([key]);
    const verifier = createTokenVerifier(src.fetch, { clock, minRefetchMs: 1_000 });
    const token = await sign(key);
    await verifier.verify(token);
    // Auth rotated: the new key's first token makes the verifier refetch, and the old key is gone.
    const next = makeKey();
    src.state.keys = [next];
    clock.advance(1_001);
    await verifier.verify(await sign(next));
    expect((await connectErrorOf(verifier.verify(token))).rawMessage).toMatch(/^invalid access token/);
  });

  it('remembers at most cacheSize tokens', async () => {
    const verifier = createTokenVerifier(source([key]).fetch, { clock, cacheSize: 2 });
    const tokens = await Promise.all([1, 2, 3].map((did) => sign(key, { claims: { did } })));
    for (const t of tokens) await verifier.verify(t);
    const signatureChecks = jest.spyOn(globalThis.crypto.subtle, 'verify');
    await verifier.verify(tokens[2]!);
    await verifier.verify(tokens[1]!);
    expect(signatureChecks).toHaveBeenCalledTimes(0);
    await verifier.verify(tokens[0]!);
    expect(signatureChecks).toHaveBeenCalledTimes(1);
  });

  it('fetches the key set once for concurrent first calls', async () => {
    const src = source([key]);
    const verifier = createTokenVerifier(src.fetch, { clock });
    const token = await sign(key);
    await Promise.all([verifier.verify(token), verifier.verify(token), verifier.verify(token)]);
    await verifier.verify(token);
    expect(src.state.calls).toBe(1);
  });

  it('refetches when a token names a new key, at most once per minRefetchMs', async () => {
    const src = source([key]);
    const verifier = createTokenVerifier(src.fetch, { minRefetchMs: 10_000, maxAgeMs: 60 * 60_000, clock });
    await verifier.verify(await sign(key));
    expect(src.state.calls).toBe(1);

    // auth rotates: the new key is published, but the cached set does not have it yet.
    const rotated = makeKey();
    src.state.keys = [key, rotated];
    const fresh = await sign(rotated);

    // Within minRefetchMs of the last fetch an unknown kid does not hit the source again.
    clock.advance(5_000);
    expect((await connectErrorOf(verifier.verify(fresh))).rawMessage).toMatch(/^invalid access token/);
    expect(src.state.calls).toBe(1);

    // Calls that arrive while the refetch runs wait for it rather than fail.
    clock.advance(5_001);
    await expect(Promise.all([verifier.verify(fresh), verifier.verify(fresh), verifier.verify(fresh)])).resolves.toEqual([
      { userId: 'user-1', sessionId: 'session-1', deviceId: 2, expiresAt: expect.any(Date) },
      { userId: 'user-1', sessionId: 'session-1', deviceId: 2, expiresAt: expect.any(Date) },
      { userId: 'user-1', sessionId: 'session-1', deviceId: 2, expiresAt: expect.any(Date) },
    ]);
    expect(src.state.calls).toBe(2);

    // Known kids never trigger a fetch, and a flood of unknown kids is rate limited.
    await verifier.verify(await sign(key));
    await connectErrorOf(verifier.verify(await sign(makeKey())));
    await connectErrorOf(verifier.verify(await sign(makeKey())));
    expect(src.state.calls).toBe(2);
  });

  it('refetches after maxAgeMs even for a known key, and drops keys auth removed', async () => {
    const src = source([key]);
    const verifier = createTokenVerifier(src.fetch, { maxAgeMs: 60_000, minRefetchMs: 1_000, clock });
    const token = await sign(key);
    await verifier.verify(token);

    src.state.keys = [makeKey()];
    clock.advance(60_001);
    expect((await connectErrorOf(verifier.verify(token))).rawMessage).toMatch(/^invalid access token/);
    expect(src.state.calls).toBe(2);
  });

  it('rate limits refetches while the source is failing, too', async () => {
    let fail = false;
    let calls = 0;
    const verifier = createTokenVerifier(
      async () => {
        calls++;
        if (fail) throw new Error('auth is down');
        return [key.publicJwk];
      },
      { minRefetchMs: 10_000, maxAgeMs: 60_000, clock },
    );
    const token = await sign(key);
    await verifier.verify(token);

    // auth goes down. Tokens naming unknown kids (anyone can write one) must not each cost a fetch.
    fail = true;
    clock.advance(10_001);
    await connectErrorOf(verifier.verify(await sign(makeKey())));
    await connectErrorOf(verifier.verify(await sign(makeKey())));
    expect(calls).toBe(2);

    // Past maxAgeMs the stale keys still verify, without a fetch per call.
    clock.advance(60_000);
    await expect(verifier.verify(token)).resolves.toEqual({ userId: 'user-1', sessionId: 'session-1', deviceId: 2, expiresAt: expect.any(Date) });
    await expect(verifier.verify(token)).resolves.toEqual({ userId: 'user-1', sessionId: 'session-1', deviceId: 2, expiresAt: expect.any(Date) });
    expect(calls).toBe(3);

    // Once auth is back, the next allowed refetch picks up the keys again.
    fail = false;
    clock.advance(10_001);
    await verifier.verify(token);
    expect(calls).toBe(4);
    clock.advance(1_000);
    await verifier.verify(token);
    expect(calls).toBe(4);
  });

  it('keeps using the cached keys when a refetch fails', async () => {
    let fail = false;
    let calls = 0;
    const verifier = createTokenVerifier(
      async () => {
        calls++;
        if (fail) throw new Error('auth is down');
        return [key.publicJwk];
      },
      { minRefetchMs: 0, clock },
    );
    await verifier.verify(await sign(key));
    fail = true;
    // The unknown kid forces a refetch, which fails; known tokens still verify. The clock moves on,
    // since a refetch in the same millisecond as the last attempt is within minRefetchMs even at 0.
    clock.advance(1);
    await connectErrorOf(verifier.verify(await sign(makeKey())));
    await expect(verifier.verify(await sign(key))).resolves.toEqual({ userId: 'user-1', sessionId: 'session-1', deviceId: 2, expiresAt: expect.any(Date) });
    expect(calls).toBe(2);
  });
});
