import type { ConnectError } from '@connectrpc/connect';
import { isBanned, sanctionRefusal, supersedes, systemClock, type Clock, type SanctionStanding, type TokenVerifier } from '@parley/platform';

/**
 * The latest standing of each user moderation changed within the window (from
 * moderation.sanction.changed), to refuse a banned user's calls at the door and end their streams.
 * Older changes need no memory: auth revoked a ban's sessions and refuses new ones, so every
 * access token a banned user still holds was signed before the ban and expires within the window.
 */
export class BannedUsers {
  private readonly latest = new Map<string, SanctionStanding>();
  private nextPrune = 0;

  constructor(
    private readonly windowMs: number,
    private readonly clock: Clock = systemClock,
  ) {}

  /** Keeps `standing` unless a later change is kept; whether the user is banned now. */
  apply(standing: SanctionStanding): boolean {
    if (supersedes(standing, this.latest.get(standing.userId))) this.latest.set(standing.userId, standing);
    this.prune();
    return this.refusal(standing.userId) !== undefined;
  }

  /** The user's PERMISSION_DENIED refusal while a ban is in force (a temporary one ends at its expires_at). */
  refusal(userId: string): ConnectError | undefined {
    return sanctionRefusal(this.latest.get(userId), 'access', this.clock.now());
  }

  get size(): number {
    return this.latest.size;
  }

  private prune(): void {
    const now = this.clock.now();
    if (now < this.nextPrune) return;
    this.nextPrune = now + 60_000;
    for (const [id, standing] of this.latest) {
      if (!isBanned(standing, now) && standing.changedAt.getTime() + this.windowMs <= now) this.latest.delete(id);
    }
  }
}

/** A verifier that also refuses every call of a banned user, with what was applied and until when. */
export function refusingBanned(verifier: TokenVerifier, banned: BannedUsers): TokenVerifier {
  return {
    dropKey: (kid) => verifier.dropKey?.(kid),
    async verify(token) {
      const caller = await verifier.verify(token);
      const refusal = banned.refusal(caller.userId);
      if (refusal) throw refusal;
      return caller;
    },
  };
}
