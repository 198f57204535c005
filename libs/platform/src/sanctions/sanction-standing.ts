import { create, type MessageShape } from '@bufbuild/protobuf';
import { timestampDate, timestampFromDate } from '@bufbuild/protobuf/wkt';
import { Code, ConnectError } from '@connectrpc/connect';
import { SanctionKind, SanctionNoticeSchema, type SanctionChangedSchema } from '@parley/proto';

/**
 * A user's standing as moderation last published it (moderation.sanction.changed): what every
 * service that enforces sanctions keeps, per user, and decides on. Pure: no I/O, time passed in.
 */
export interface SanctionStanding {
  userId: string;
  kind: SanctionKind;
  sanctionId: string;
  /** When a temporary standing ends by itself; null for NONE, WARN and a permanent ban. */
  expiresAt: Date | null;
  reason: string;
  /** When moderation made the change: a standing only replaces an older one. */
  changedAt: Date;
}

/**
 * What a sanction may refuse: a ban refuses everything (`access`: any signed-in call, live streams
 * included); a restriction only what reaches others first.
 */
export type SanctionedAction = 'login' | 'access' | 'send' | 'start_conversation' | 'contact_request';

const RESTRICTED: ReadonlySet<SanctionedAction> = new Set(['send', 'start_conversation', 'contact_request']);

export function standingOf(event: MessageShape<typeof SanctionChangedSchema>): SanctionStanding {
  if (!event.changedAt) throw new Error(`sanction change for user ${event.userId} has no changed_at, so it cannot be ordered`);
  return {
    userId: event.userId,
    kind: event.kind,
    sanctionId: event.sanctionId,
    expiresAt: event.expiresAt ? timestampDate(event.expiresAt) : null,
    reason: event.reason,
    changedAt: timestampDate(event.changedAt),
  };
}

/** The kind in force at `now`: a temporary standing whose expires_at has passed is over, whether or not its expiry event came. */
export function kindInForce(standing: SanctionStanding | undefined, now: number): SanctionKind {
  if (!standing) return SanctionKind.NONE;
  if (standing.expiresAt && standing.expiresAt.getTime() <= now) return SanctionKind.NONE;
  return standing.kind;
}

export function isBanned(standing: SanctionStanding | undefined, now: number): boolean {
  const kind = kindInForce(standing, now);
  return kind === SanctionKind.TEMPORARY_BAN || kind === SanctionKind.PERMANENT_BAN;
}

/** Whether `next` replaces `current`: the latest change wins, and an equal one changes nothing. */
export function supersedes(next: SanctionStanding, current: SanctionStanding | undefined): boolean {
  return !current || next.changedAt.getTime() > current.changedAt.getTime();
}

/**
 * The refusal of `action` for a user in `standing` at `now`: PERMISSION_DENIED saying what was
 * applied and until when, with a SanctionNotice detail; undefined when the action is allowed.
 */
export function sanctionRefusal(standing: SanctionStanding | undefined, action: SanctionedAction, now: number): ConnectError | undefined {
  const kind = kindInForce(standing, now);
  const banned = kind === SanctionKind.TEMPORARY_BAN || kind === SanctionKind.PERMANENT_BAN;
  if (!standing || !(banned || (kind === SanctionKind.RESTRICT && RESTRICTED.has(action)))) return undefined;
  const notice = create(SanctionNoticeSchema, {
    kind,
    expiresAt: standing.expiresAt ? timestampFromDate(standing.expiresAt) : undefined,
    reason: standing.reason,
    sanctionId: standing.sanctionId,
  });
  return new ConnectError(sanctionMessage(standing, kind), Code.PermissionDenied, undefined, [{ desc: SanctionNoticeSchema, value: notice }]);
}

/** e.g. "your account is temporarily banned until 2026-12-09T10:00:00Z (reason: spam)". */
export function sanctionMessage(standing: SanctionStanding, kind: SanctionKind = standing.kind): string {
  const until = standing.expiresAt ? ` until ${standing.expiresAt.toISOString().replace(/\.\d{3}Z$/, 'Z')}` : '';
  // Moderation's reason codes are enum names (HATE_SPEECH); people read "hate speech".
  const reason = standing.reason ? ` (reason: ${standing.reason.toLowerCase().replaceAll('_', ' ')})` : '';
  switch (kind) {
    case SanctionKind.PERMANENT_BAN:
      return `your account is permanently banned${reason}`;
    case SanctionKind.TEMPORARY_BAN:
      return `your account is temporarily banned${until}${reason}`;
    case SanctionKind.RESTRICT:
      return `your account is restricted${until}${reason}: you cannot send messages, start conversations or send contact requests`;
    default:
      return `your account is in good standing`;
  }
}
