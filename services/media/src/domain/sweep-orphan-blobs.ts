import type { EntityManager } from '@mikro-orm/postgresql';
import { sqlRows } from '@parley/platform';
import type { MediaDeps } from '../deps.js';

/**
 * Removes what the store holds under ids that have no attachment row, once untouched for the
 * grace period: left by a crash between deleting rows and their blobs, or by a write that outlived
 * its upload's deletion. The store is listed before the rows are read, and a row is committed
 * before tus stores anything under its id, so a blob being created is never taken for an orphan.
 * Returns how many ids went.
 */
export async function sweepOrphanBlobs(deps: Pick<MediaDeps, 'orm' | 'store' | 'clock' | 'settings'>): Promise<number> {
  const lastChanged = new Map<string, number>();
  for await (const blob of deps.store.list()) lastChanged.set(blob.id, Math.max(lastChanged.get(blob.id) ?? 0, blob.modifiedAt.getTime()));
  const settledBefore = deps.clock.now() - deps.settings.orphanGraceMs;
  const settled = [...lastChanged].filter(([, at]) => at < settledBefore).map(([id]) => id);
  if (settled.length === 0) return 0;
  const rows = await sqlRows<{ id: string }>(deps.orm.em.fork() as EntityManager, `select id from attachment where id = any(?::text[])`, [settled]);
  const known = new Set(rows.map((r) => r.id));
  const orphans = settled.filter((id) => !known.has(id));
  for (const id of orphans) await deps.store.remove(id);
  return orphans.length;
}
