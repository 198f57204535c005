import type { EntityManager } from '@mikro-orm/postgresql';
import type { MediaDeps } from '../deps.js';
import { deleteAttachmentRows } from './delete-attachments.js';

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

/** Runs `collectGarbage` every GC interval on the deps' clock, until stopped. */
export function startGarbageCollector(deps: Pick<MediaDeps, 'orm' | 'store' | 'clock' | 'settings' | 'log'>): { stop(): void } {
  let cancel = () => {};
  let stopped = false;
  const tick = () => {
    void collectGarbage(deps)
      .then((count) => count && deps.log.info({ count }, 'media garbage collected'))
      .catch((err: unknown) => deps.log.warn({ err }, 'media garbage collection failed'))
      .finally(() => {
        if (!stopped) cancel = deps.clock.schedule(deps.settings.gcIntervalMs, tick);
      });
  };
  cancel = deps.clock.schedule(deps.settings.gcIntervalMs, tick);
  return {
    stop() {
      stopped = true;
      cancel();
    },
  };
}
