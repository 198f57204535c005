import { rpcError, systemClock, type Clock, type TokenVerifier } from '@parley/platform';

/**
 * Sessions auth revoked recently. An entry lives as long as an access token of that session
 * could (the revocation window), after which the token's own expiry refuses it.
 */
export class RevokedSessions {
  private readonly until = new Map<string, number>();
  private nextPrune = 0;

  constructor(
    private readonly windowMs: number,
    private readonly clock: Clock = systemClock,
  ) {}

  add(sessionIds: readonly string[], revokedAt: Date): void {
    const until = revokedAt.getTime() + this.windowMs;
    if (until <= this.clock.now()) return;
    for (const id of sessionIds) this.until.set(id, Math.max(until, this.until.get(id) ?? 0));
    this.prune();
  }

  has(sessionId: string): boolean {
    const until = this.until.get(sessionId);
    return until !== undefined && until > this.clock.now();
  }

  get size(): number {
    return this.until.size;
  }

  private prune(): void {
    const now = this.clock.now();
    if (now < this.nextPrune) return;
    this.nextPrune = now + 60_000;
    for (const [id, until] of this.until) if (until <= now) this.until.delete(id);
  }
}

/** A verifier that also refuses tokens of revoked sessions, at the first call after revocation. */
export function refusingRevoked(verifier: TokenVerifier, revoked: RevokedSessions): TokenVerifier {
  return {
    dropKey: (kid) => verifier.dropKey?.(kid),
    async verify(token) {
      const caller = await verifier.verify(token);
      if (revoked.has(caller.sessionId)) throw rpcError.unauthenticated('session has ended: log in again');
      return caller;
    },
  };
}
