import type { EntityManager } from '@mikro-orm/postgresql';
import { rpcError, sqlRows } from '@parley/platform';

/**
 * The first of `recipientIds` (in order) who does not accept messages from `senderId`: either
 * blocked the other, or the recipient accepts contacts only and the sender is not one. One query
 * for any number of recipients.
 */
export async function firstRefusingRecipient(em: EntityManager, senderId: string, recipientIds: string[]): Promise<string | undefined> {
  if (recipientIds.length === 0) return undefined;
  const refused = await sqlRows<{ id: string }>(
    em,
    `select u.id from unnest(?::uuid[]) with ordinality as u(id, ord)
     where exists (select 1 from block_projection b where b.active
                   and ((b.blocker_id = ? and b.blocked_id = u.id) or (b.blocker_id = u.id and b.blocked_id = ?)))
        or (exists (select 1 from messaging_policy_projection p where p.user_id = u.id and p.contacts_only)
            and not exists (select 1 from contact_projection c where c.user_id = u.id and c.contact_user_id = ? and c.active))
     order by u.ord limit 1`,
    [recipientIds, senderId, senderId, senderId],
  );
  return refused[0]?.id;
}

/**
 * Refuses unless `senderId` may start a conversation with `recipientId`. One message for every
 * refusal, so the sender can't tell a block from a privacy setting.
 */
export async function requireMayMessage(em: EntityManager, senderId: string, recipientId: string): Promise<void> {
  if (await firstRefusingRecipient(em, senderId, [recipientId])) throw rpcError.permissionDenied('this user does not accept messages from you');
}
