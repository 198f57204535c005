import type { EntityManager } from '@mikro-orm/postgresql';
import { rpcError, sqlRows } from '@parley/platform';

/**
 * The rule, as a SQL condition over two uuid expressions: `recipient` does not accept messages
 * from `sender` when either blocked the other, or the recipient accepts contacts only and the
 * sender is not one. Every query that decides who may message whom embeds this one text.
 */
export function refusesSender(recipient: string, sender: string): string {
  return `(exists (select 1 from block_projection b where b.active
                   and ((b.blocker_id = ${sender} and b.blocked_id = ${recipient}) or (b.blocker_id = ${recipient} and b.blocked_id = ${sender})))
       or (exists (select 1 from messaging_policy_projection p where p.user_id = ${recipient} and p.contacts_only)
           and not exists (select 1 from contact_projection c where c.user_id = ${recipient} and c.contact_user_id = ${sender} and c.active)))`;
}

/** One message for every refusal, so the sender can't tell a block from a privacy setting. */
export const refusedMessaging = () => rpcError.permissionDenied('this user does not accept messages from you');

/** The first of `recipientIds` (in order) who does not accept messages from `senderId`. One query for any number. */
export async function firstRefusingRecipient(em: EntityManager, senderId: string, recipientIds: string[]): Promise<string | undefined> {
  if (recipientIds.length === 0) return undefined;
  const refused = await sqlRows<{ id: string }>(
    em,
    `select u.id from (select ?::uuid as id) sender, unnest(?::uuid[]) with ordinality as u(id, ord)
     where ${refusesSender('u.id', 'sender.id')}
     order by u.ord limit 1`,
    [senderId, recipientIds],
  );
  return refused[0]?.id;
}

/** Refuses unless `senderId` may start a conversation with `recipientId`. */
export async function requireMayMessage(em: EntityManager, senderId: string, recipientId: string): Promise<void> {
  if (await firstRefusingRecipient(em, senderId, [recipientId])) throw refusedMessaging();
}
