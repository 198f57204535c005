import type { EntityManager } from '@mikro-orm/postgresql';
import { rpcError } from '@parley/platform';
import { BlockProjectionSchema } from './block-projection.entity.js';
import { ContactProjectionSchema } from './contact-projection.entity.js';
import { MessagingPolicyProjectionSchema } from './messaging-policy-projection.entity.js';

/**
 * Refuses unless `senderId` may start a conversation with `recipientId`: neither blocked the
 * other, and the recipient accepts everyone or has the sender as a contact. One message for every
 * refusal, so the sender can't tell a block from a privacy setting.
 */
export async function requireMayMessage(em: EntityManager, senderId: string, recipientId: string): Promise<void> {
  const refused = () => rpcError.permissionDenied('this user does not accept messages from you');
  const blocks = await em.count(BlockProjectionSchema, {
    $or: [
      { blockerId: senderId, blockedId: recipientId },
      { blockerId: recipientId, blockedId: senderId },
    ],
    active: true,
  });
  if (blocks > 0) throw refused();
  const policy = await em.findOne(MessagingPolicyProjectionSchema, { userId: recipientId });
  if (!policy?.contactsOnly) return;
  if ((await em.count(ContactProjectionSchema, { userId: recipientId, contactUserId: senderId, active: true })) === 0) throw refused();
}
