import { timestampMs } from '@bufbuild/protobuf/wkt';
import { Code, ConnectError, type Client, type Interceptor } from '@connectrpc/connect';
import type { AuthService, TokenPair } from '@parley/proto';
import { backoffDelay, type Cancel, type Clock } from './clock.js';
import type { Emitter } from './emitter.js';
import { LoggedOutError, ParleyError } from './errors.js';
import type { ClientEvents } from './events.js';
import type { ClientStore } from './store.js';

/** The session's tokens, with expiries in milliseconds since the epoch. */
export interface Tokens {
  accessToken: string;
  accessExpiresAt: number;
  refreshToken: string;
  refreshExpiresAt: number;
}

/** Who this client is signed in as. */
export interface Account {
  userId: string;
  username: string;
  deviceId: number;
  /** The device's own credential: with the password it signs this device in again. */
  deviceSecret: string;
}

const TOKENS = 'session.tokens';
const ACCOUNT = 'session.account';

/** Codes with which the server refuses a refresh token for good: retrying can't help. */
const REFUSED = new Set([Code.Unauthenticated, Code.InvalidArgument, Code.NotFound, Code.PermissionDenied, Code.FailedPrecondition]);

export interface SessionOptions {
  /** Refresh this long before the access token expires. */
  refreshMarginMs?: number;
}

export function tokensOf(pair: TokenPair | undefined): Tokens {
  if (!pair?.accessTokenExpiresAt || !pair.refreshTokenExpiresAt) throw new ParleyError('the server sent no tokens', Code.Internal, 'report it');
  return {
    accessToken: pair.accessToken,
    accessExpiresAt: timestampMs(pair.accessTokenExpiresAt),
    refreshToken: pair.refreshToken,
    refreshExpiresAt: timestampMs(pair.refreshTokenExpiresAt),
  };
}

/**
 * The signed-in session: keeps the tokens in the store, refreshes the access token before it
 * expires with one refresh in flight at a time, and on a refused refresh ends the session and
 * emits `loggedOut` once instead of looping.
 */
export class Session {
  private inFlight: Promise<string> | undefined;
  private cancelTimer: Cancel | undefined;
  private failedRefreshes = 0;
  private readonly refreshMarginMs: number;

  constructor(
    private readonly auth: Client<typeof AuthService>,
    private readonly store: ClientStore,
    private readonly clock: Clock,
    private readonly events: Emitter<ClientEvents>,
    opts: SessionOptions = {},
  ) {
    this.refreshMarginMs = opts.refreshMarginMs ?? 60_000;
    if (this.tokens()) this.scheduleRefresh();
  }

  get account(): Account | undefined {
    return this.store.getValue<Account>(ACCOUNT);
  }

  tokens(): Tokens | undefined {
    return this.store.getValue<Tokens>(TOKENS);
  }

  /** Starts the session a Register, Login or link answered with. */
  begin(account: Account, pair: TokenPair | undefined): void {
    this.store.setValue(ACCOUNT, account);
    this.store.setValue(TOKENS, tokensOf(pair));
    this.failedRefreshes = 0;
    this.scheduleRefresh();
  }

  /** A valid access token: the current one, or a fresh one when it is about to expire. */
  async accessToken(): Promise<string> {
    const tokens = this.tokens();
    if (!tokens) throw new LoggedOutError('not logged in');
    if (this.clock.now() < tokens.accessExpiresAt - this.refreshMarginMs) return tokens.accessToken;
    return this.refresh();
  }

  /** Trades the refresh token for a new pair; concurrent callers share one call. */
  refresh(): Promise<string> {
    this.inFlight ??= this.refreshOnce().finally(() => (this.inFlight = undefined));
    return this.inFlight;
  }

  private async refreshOnce(): Promise<string> {
    const tokens = this.tokens();
    if (!tokens) throw new LoggedOutError('not logged in');
    try {
      const res = await this.auth.refresh({ refreshToken: tokens.refreshToken });
      const fresh = tokensOf(res.tokens);
      this.store.setValue(TOKENS, fresh);
      this.failedRefreshes = 0;
      this.scheduleRefresh();
      return fresh.accessToken;
    } catch (err) {
      const error = ParleyError.from(err);
      if (REFUSED.has(error.code)) {
        this.end(`the server refused to refresh the session: ${error.message}`);
        throw new LoggedOutError(error.message);
      }
      // Unreachable: keep the session, try again with backoff.
      this.scheduleRetry();
      throw error;
    }
  }

  /** Ends the session on this client only (the server already did, or will). */
  end(reason: string): void {
    this.cancelTimer?.();
    const hadSession = this.tokens() !== undefined;
    this.store.deleteValue(TOKENS);
    if (hadSession) this.events.emit('loggedOut', reason);
  }

  /** Logs out on the server, then here. */
  async logout(): Promise<void> {
    if (!this.tokens()) return;
    try {
      await this.auth.logout({}, { headers: { authorization: `Bearer ${await this.accessToken()}` } });
    } finally {
      this.end('logged out');
    }
  }

  /** Adds the bearer token to every call except the anonymous ones. */
  readonly interceptor: Interceptor = (next) => async (req) => {
    if (!ANONYMOUS.has(req.method.name)) {
      if (!this.tokens()) throw new ConnectError('not logged in', Code.Unauthenticated);
      req.header.set('authorization', `Bearer ${await this.accessToken()}`);
    }
    return next(req);
  };

  stop(): void {
    this.cancelTimer?.();
  }

  private scheduleRefresh(): void {
    const tokens = this.tokens();
    if (!tokens) return;
    this.cancelTimer?.();
    const due = Math.max(0, tokens.accessExpiresAt - this.refreshMarginMs - this.clock.now());
    this.cancelTimer = this.clock.schedule(due, () => void this.refresh().catch(() => undefined));
  }

  private scheduleRetry(): void {
    this.cancelTimer?.();
    this.cancelTimer = this.clock.schedule(backoffDelay(this.failedRefreshes++), () => void this.refresh().catch(() => undefined));
  }
}

/** Calls made before there is a session, or with credentials of their own. */
const ANONYMOUS = new Set(['GetRegistrationChallenge', 'Register', 'Login', 'Refresh', 'RequestPasswordReset', 'ResetPassword', 'LinkDevice', 'CompleteLink']);
