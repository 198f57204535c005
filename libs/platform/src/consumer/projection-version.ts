import { timestampDate } from '@bufbuild/protobuf/wkt';
import type { EventEnvelope } from '@parley/proto';

/**
 * When the producer made the change an event reports. Consumers of different subjects, and retries within
 * one, can apply events out of order, so each read-model row keeps the time of the change it
 * reflects and an upsert only takes an event at least as recent.
 */
export function changedAt(envelope: EventEnvelope): Date {
  if (!envelope.occurredAt) throw new Error(`event ${envelope.id} has no occurred_at, so it cannot be ordered`);
  return timestampDate(envelope.occurredAt);
}

/** Upsert options that keep a row unless the event is at least as recent as the row. */
export const ifNotOlder = (at: Date) => ({
  onConflictAction: 'merge' as const,
  onConflictWhere: { changedAt: { $lte: at } },
  disableIdentityMap: true,
});
