import type { EntityManager } from '@mikro-orm/postgresql';
import { rpcError, sqlRows, type Caller } from '@parley/platform';
import type { MediaDeps } from '../deps.js';
import type { Attachment } from './attachment.entity.js';
import { noSuchAttachment, readableAttachment } from './readable-attachment.js';

/** An attachment the caller may read, or one of their own uploads still in progress. */
export async function getAttachment(deps: Pick<MediaDeps, 'orm'>, caller: Caller, input: { attachmentId: string }): Promise<Attachment> {
  const em = deps.orm.em.fork() as EntityManager;
  const readable = await readableAttachment(em, input.attachmentId, caller.userId);
  if (readable) return readable;
  const [pending] = await sqlRows<{ size: string; sha256: string; content_type: string; created_at: Date }>(
    em,
    `select size, sha256, content_type, created_at from attachment where id = ? and owner_id = ? and completed_at is null`,
    [input.attachmentId, caller.userId],
  );
  if (!pending) throw rpcError.notFound(noSuchAttachment(input.attachmentId));
  return {
    id: input.attachmentId,
    ownerId: caller.userId,
    size: String(pending.size),
    sha256: pending.sha256,
    contentType: pending.content_type,
    createdAt: new Date(pending.created_at),
    completedAt: null,
  };
}
