import { defineConsumer, events } from '@parley/platform';
import { BlockProjectionSchema } from '../../domain/block-projection.entity.js';
import { ContactProjectionSchema } from '../../domain/contact-projection.entity.js';
import { ConversationMemberSchema, ConversationSchema } from '../../domain/conversation.entity.js';
import { DeviceProjectionSchema } from '../../domain/device-projection.entity.js';
import { MessagingPolicyProjectionSchema } from '../../domain/messaging-policy-projection.entity.js';
import { UserProjectionSchema } from '../../domain/user-projection.entity.js';

/**
 * Forgets the user: their projection rows (devices included), blocks and contacts on either side, their memberships,
 * and their direct conversations, which can never be used again (the other member's rows go by
 * cascade).
 */
export const accountDeletedConsumer = defineConsumer({
  name: 'account-deleted',
  eventType: events.accountDeleted,
  async handle(em, { userId }) {
    const direct = await em.find(ConversationMemberSchema, { userId, conversation: { kind: 'direct' } });
    await em.nativeDelete(ConversationSchema, { id: { $in: direct.map((m) => m.conversation.id) } });
    await em.nativeDelete(ConversationMemberSchema, { userId });
    await em.nativeDelete(BlockProjectionSchema, { $or: [{ blockerId: userId }, { blockedId: userId }] });
    await em.nativeDelete(ContactProjectionSchema, { $or: [{ userId }, { contactUserId: userId }] });
    await em.nativeDelete(MessagingPolicyProjectionSchema, { userId });
    await em.nativeDelete(DeviceProjectionSchema, { userId });
    await em.nativeDelete(UserProjectionSchema, { userId });
  },
});
