import type { EntityManager } from '@mikro-orm/postgresql';
import { sqlRows } from '@parley/platform';
import type { Attachment } from './attachment.entity.js';

const HEX_ID = /^[0-9a-f]{32}$/;

/**
 * The completed attachment `id` if `userId` may read it: they uploaded it, or they are a member of
 * a conversation it was granted to. Null otherwise, the same whether or not it exists.
 */
export async function readableAttachment(em: EntityManager, id: string, userId: string): Promise<Attachment | null> {
  if (!HEX_ID.test(id)) return null;
  const [row] = await sqlRows<{ id: string; owner_id: string; size: string; sha256: string; content_type: string; created_at: Date; completed_at: Date }>(
    em,
    `select a.* from attachment a
      where a.id = ? and a.completed_at is not null
        and (a.owner_id = ? or exists (
          select 1 from attachment_grant g join conversation_members c on c.conversation_id = g.conversation_id
           where g.attachment_id = a.id and ?::uuid = any(c.member_ids)))`,
    [id, userId, userId],
  );
  if (!row) return null;
  return {
    id: row.id,
    ownerId: row.owner_id,
    size: String(row.size),
    sha256: row.sha256,
    contentType: row.content_type,
    createdAt: new Date(row.created_at),
    completedAt: new Date(row.completed_at),
  };
}

/** What a caller is told about an attachment they may not read: exactly what they'd hear for one that doesn't exist. */
export const noSuchAttachment = (id: string) => `no attachment with id ${id.slice(0, 64)} that you may read`;
