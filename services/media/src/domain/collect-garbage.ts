import type { EntityManager } from '@mikro-orm/postgresql';
import type { MediaDeps } from '../deps.js';
import { deleteAttachmentRows } from './delete-attachments.js';
import { sweepOrphanBlobs } from './sweep-orphan-blobs.js';

/**
 * Deletes uploads not completed within the pending TTL, and completed attachments granted to no
 * conversation within the ungranted TTL, rows first, then blobs. Returns how many went.
 */
export async function collectGarbage(deps: Pick<MediaDeps, 'orm' | 'store' | 'clock' | 'settings'>): Promise<number> {
  const now = deps.clock.now();
  const pendingBefore = new Date(now - deps.settings.pendingUploadTtlMs);
  const ungrantedBefore = new Date(now - deps.settings.ungrantedTtlMs);
  const deleted = await deps.orm.em.fork().transactional((em) =>
    deleteAttachmentRows(
      em as EntityManager,
      deps.store,
      `(completed_at is null and created_at < ?)
        or (completed_at < ? and not exists (select 1 from attachment_grant g where g.attachment_id = attachment.id))`,
      [pendingBefore, ungrantedBefore],
    ),
  );
  await deleted.removeBlobs();
  return deleted.ids.length;
}

/** Runs `task` every `intervalMs` on the deps' clock (the next run is scheduled once one ended), until stopped. */
function every(deps: Pick<MediaDeps, 'clock' | 'log'>, intervalMs: number, what: string, task: () => Promise<number>): () => void {
  let cancel = () => {};
  let stopped = false;
  const tick = () => {
    void task()
      .then((count) => count && deps.log.info({ count }, `media ${what}`))
      .catch((err: unknown) => deps.log.warn({ err }, `media ${what} failed`))
      .finally(() => {
        if (!stopped) cancel = deps.clock.schedule(intervalMs, tick);
      });
  };
  cancel = deps.clock.schedule(intervalMs, tick);
  return () => {
    stopped = true;
    cancel();
  };
}

/** Runs `collectGarbage` every GC interval and `sweepOrphanBlobs` every sweep interval, until stopped. */
export function startGarbageCollector(deps: Pick<MediaDeps, 'orm' | 'store' | 'clock' | 'settings' | 'log'>): { stop(): void } {
  const stops = [
    every(deps, deps.settings.gcIntervalMs, 'garbage collected', () => collectGarbage(deps)),
    every(deps, deps.settings.orphanSweepIntervalMs, 'orphan blobs swept', () => sweepOrphanBlobs(deps)),
  ];
  return { stop: () => stops.forEach((stop) => stop()) };
}
