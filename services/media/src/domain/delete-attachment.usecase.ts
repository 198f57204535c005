import type { EntityManager } from '@mikro-orm/postgresql';
import { rpcError, type Caller } from '@parley/platform';
import type { MediaDeps } from '../deps.js';
import { deleteAttachmentRows } from './delete-attachments.js';
import { noSuchAttachment } from './readable-attachment.js';

/** Deletes one of the caller's attachments (finished or not): its row, grants and blob. */
export async function deleteAttachment(deps: Pick<MediaDeps, 'orm' | 'store'>, caller: Caller, input: { attachmentId: string }): Promise<void> {
  const deleted = await deps.orm.em
    .fork()
    .transactional((em) => deleteAttachmentRows(em as EntityManager, deps.store, `id = ? and owner_id = ?`, [input.attachmentId, caller.userId]));
  if (deleted.ids.length === 0) throw rpcError.notFound(noSuchAttachment(input.attachmentId));
  await deleted.removeBlobs();
}
