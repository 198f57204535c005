import type { EntityManager } from '@mikro-orm/postgresql';
import { rpcError, sqlRows } from '@parley/platform';

/**
 * The rule, as a SQL condition over two uuid expressions: `recipient` does not accept messages
 * from `sender` when either blocked the other, or the recipient accepts contacts only and the
 * sender is not one. The rule itself is the database function refuses_sender (see the migration
 * that made it), which every query that decides who may message whom calls.
 */
export function refusesSender(recipient: string, sender: string): string {
  return `refuses_sender(${recipient}, ${sender})`;
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

/**
 * The first of `userIds` (in order) whom `adderId` may not add to a group: one who does not accept
 * messages from the adder, or whose group setting ("who may add me") excludes the adder. One query.
 */
export async function firstRefusingAdd(em: EntityManager, adderId: string, userIds: string[]): Promise<string | undefined> {
  if (userIds.length === 0) return undefined;
  const refused = await sqlRows<{ id: string }>(
    em,
    `select u.id from (select ?::uuid as id) adder, unnest(?::uuid[]) with ordinality as u(id, ord)
     where ${refusesSender('u.id', 'adder.id')}
        or exists (select 1 from messaging_policy_projection p where p.user_id = u.id
                   and (p.group_adds = 'nobody'
                        or (p.group_adds = 'contacts'
                            and not exists (select 1 from contact_projection c where c.user_id = u.id and c.contact_user_id = adder.id and c.active))))
     order by u.ord limit 1`,
    [adderId, userIds],
  );
  return refused[0]?.id;
}
