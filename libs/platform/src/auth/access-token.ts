import { Code, ConnectError, createContextKey, type HandlerContext, type Interceptor } from '@connectrpc/connect';
import { createLocalJWKSet, errors as joseErrors, jwtVerify, type JWK } from 'jose';
import { isDeviceId } from '../limits/signal-ids.js';
import { rpcError } from '../rpc/errors.js';
import { systemClock, type Clock } from '../time/clock.js';

export const ACCESS_TOKEN_ISSUER = 'parley-auth';
export const ACCESS_TOKEN_AUDIENCE = 'parley';
export const ACCESS_TOKEN_ALG = 'EdDSA';

/** Who is calling, as proven by a verified access token. */
export interface Caller {
  userId: string;
  sessionId: string;
  /** The account's device the token was issued to (libsignal's device id, 1 to MAX_DEVICE_ID). */
  deviceId: number;
  /** When the token stops being accepted: a long-lived stream opened with it ends then. */
  expiresAt: Date;
}

/** Whom a token is issued to: a caller before the token exists. */
export type TokenSubject = Omit<Caller, 'expiresAt'>;

export interface TokenVerifier {
  verify(token: string): Promise<Caller>;
  /**
   * The signing key `kid` was removed (auth.signing_key.removed): tokens it signed are refused from
   * now on, whatever a cached or refetched key set (from an auth not yet restarted) still holds.
   */
  dropKey?(kid: string): void;
}

export type JwksSource = () => Promise<JWK[]>;

export interface TokenVerifierOptions {
  maxAgeMs?: number;
  /** How many verified tokens are remembered (the oldest is forgotten first). */
  cacheSize?: number;
  minRefetchMs?: number;
  /** Reads the time for the key set's age, the refetch limit and token expiry. */
  clock?: Clock;
}

const DEFAULT_CACHE_SIZE = 10_000;

/**
 * Verifies access tokens against a key set that is cached and refetched when a token names an
 * unknown key (at most once per `minRefetchMs`), so key rotation needs no restart.
 *
 * A token that verified is remembered until it expires, but no longer than the key set it was
 * checked against may be kept (`maxAgeMs`), and forgotten whenever the key set is refetched: a
 * client calls many times with one token, and an Ed25519 check costs more than the rest of a
 * small call. A remembered token is exactly as good as a re-verified one would be.
 */
export function createTokenVerifier(source: JwksSource, opts: TokenVerifierOptions = {}): TokenVerifier {
  const maxAgeMs = opts.maxAgeMs ?? 5 * 60_000;
  const minRefetchMs = opts.minRefetchMs ?? 10_000;
  const cacheSize = opts.cacheSize ?? DEFAULT_CACHE_SIZE;
  const clock = opts.clock ?? systemClock;
  const verified = new Map<string, { caller: Caller; until: number }>();
  let keys: { set: ReturnType<typeof createLocalJWKSet>; kids: Set<string>; at: number; jwks: JWK[] } | undefined;
  const dropped = new Set<string>();
  const useKeys = (jwks: JWK[], at: number) => {
    const kept = jwks.filter((k) => !dropped.has(k.kid ?? ''));
    keys = { set: createLocalJWKSet({ keys: kept }), kids: new Set(kept.map((k) => k.kid ?? '')), at, jwks: kept };
    verified.clear();
  };
  let inflight: Promise<void> | undefined;
  // When the last fetch started, whether or not it worked: a failing source is rate limited too.
  let lastAttempt = -Infinity;

  const refresh = () => {
    if (!inflight) {
      lastAttempt = clock.now();
      inflight = source()
        .then((jwks) => useKeys(jwks, clock.now()))
        .finally(() => (inflight = undefined));
    }
    return inflight;
  };

  const remember = (token: string, caller: Caller, until: number) => {
    verified.delete(token);
    if (verified.size >= cacheSize) verified.delete(verified.keys().next().value!);
    verified.set(token, { caller, until });
  };

  return {
    dropKey(kid) {
      dropped.add(kid);
      if (keys) useKeys(keys.jwks, keys.at);
    },
    async verify(token) {
      const remembered = verified.get(token);
      if (remembered && clock.now() < remembered.until) return remembered.caller;
      const kid = headerKid(token);
      const age = keys ? clock.now() - keys.at : Infinity;
      const stale = !keys || age > maxAgeMs || !keys.kids.has(kid);
      // Join a fetch in flight; start one only if the last attempt is old enough.
      if (stale && (inflight || !keys || clock.now() - lastAttempt > minRefetchMs)) {
        try {
          await refresh();
        } catch {
          if (!keys) throw new ConnectError('cannot check access tokens right now; retry shortly', Code.Unavailable);
        }
      }
      try {
        const { payload } = await jwtVerify(token, keys!.set, {
          algorithms: [ACCESS_TOKEN_ALG],
          issuer: ACCESS_TOKEN_ISSUER,
          audience: ACCESS_TOKEN_AUDIENCE,
          currentDate: new Date(clock.now()),
        });
        const { sub, sid, did, exp } = payload;
        if (typeof sub !== 'string' || typeof sid !== 'string' || !Number.isInteger(did) || typeof exp !== 'number') throw new Error('claims');
        if (!isDeviceId(did as number)) throw new Error('claims');
        const caller = Object.freeze({ userId: sub, sessionId: sid, deviceId: did as number, expiresAt: new Date(exp * 1000) });
        remember(token, caller, Math.min(exp * 1000, keys!.at + maxAgeMs));
        return caller;
      } catch (err) {
        if (err instanceof joseErrors.JWTExpired) {
          throw rpcError.unauthenticated('access token expired: get a new one with AuthService/Refresh');
        }
        throw rpcError.unauthenticated('invalid access token: log in again');
      }
    },
  };
}

function headerKid(token: string): string {
  try {
    const header = JSON.parse(Buffer.from(token.split('.')[0] ?? '', 'base64url').toString('utf8')) as { kid?: unknown };
    return typeof header.kid === 'string' ? header.kid : '';
  } catch {
    return '';
  }
}

const callerKey = createContextKey<Caller | undefined>(undefined, { description: 'verified caller' });

/** Verifies a bearer token when one is sent; handlers that need a caller use requireCaller. */
export function authInterceptor(verifier: TokenVerifier): Interceptor {
  return (next) => async (req) => {
    const header = req.header.get('authorization');
    if (header !== null) {
      const match = /^Bearer ([A-Za-z0-9_.-]+)$/.exec(header.trim());
      if (!match?.[1]) throw rpcError.unauthenticated('malformed Authorization header: expected "Bearer <access token>"');
      req.contextValues.set(callerKey, await verifier.verify(match[1]));
    }
    return next(req);
  };
}

export function requireCaller(ctx: HandlerContext): Caller {
  const caller = ctx.values.get(callerKey);
  if (!caller) throw rpcError.unauthenticated('missing access token: send "Authorization: Bearer <access token>"');
  return caller;
}
