import { EntitySchema } from '@mikro-orm/core';

/**
 * A user's standing as moderation last published it: one row per user ever sanctioned, in the
 * database of each service that enforces sanctions (auth, keys, messaging). `kind` is the
 * SanctionKind's name (e.g. `TEMPORARY_BAN`); the row stays after an unban (`NONE`), so an older
 * event arriving late can't bring a lifted sanction back.
 */
export interface SanctionStandingRow {
  userId: string;
  kind: string;
  sanctionId: string;
  expiresAt: Date | null;
  reason: string;
  changedAt: Date;
}

export const SanctionStandingSchema = new EntitySchema<SanctionStandingRow>({
  name: 'SanctionStanding',
  tableName: 'sanction_standing',
  properties: {
    userId: { type: 'uuid', primary: true },
    kind: { type: 'text' },
    sanctionId: { type: 'text' },
    expiresAt: { type: 'datetime', nullable: true },
    reason: { type: 'text' },
    changedAt: { type: 'datetime' },
  },
});
