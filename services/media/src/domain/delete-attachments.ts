import type { EntityManager } from '@mikro-orm/postgresql';
import { sqlRows } from '@parley/platform';
import type { BlobStore } from '../storage/blob-store.js';

export interface DeletedAttachments {
  ids: string[];
  removeBlobs(): Promise<void>;
}

/**
 * Deletes the rows of attachments matching `where` (with their grants) in the caller's
 * transaction, and returns their ids and what removes their blobs, to run once it committed: a blob
 * is never gone while a row still offers it, and a failed removal leaves only an unreachable blob.
 */
export async function deleteAttachmentRows(em: EntityManager, store: BlobStore, where: string, params: unknown[]): Promise<DeletedAttachments> {
  const rows = await sqlRows<{ id: string }>(em, `delete from attachment where ${where} returning id`, params);
  const ids = rows.map((r) => r.id);
  if (ids.length) await sqlRows(em, `delete from attachment_grant where attachment_id = any(?::text[])`, [ids]);
  return {
    ids,
    async removeBlobs() {
      for (const id of ids) await store.remove(id);
    },
  };
}
