import type { EntityManager } from '@mikro-orm/postgresql';
import { RateLimiter, defineConsumer, events, forgetSanctionStanding, sqlRows } from '@parley/platform';
import type { MessagingDeps } from '../../deps.js';
import { BlockProjectionSchema } from '../../domain/block-projection.entity.js';
import { ContactProjectionSchema } from '../../domain/contact-projection.entity.js';
import { DeviceProjectionSchema } from '../../domain/device-projection.entity.js';
import { MessagingPolicyProjectionSchema } from '../../domain/messaging-policy-projection.entity.js';
import { membershipChanged } from '../../domain/notices.js';
import { publishMembersChanged } from '../members-changed.js';
import { UserProjectionSchema } from '../../domain/user-projection.entity.js';
import type { QueuedDelivery } from '../../domain/delivery-queue.js';

/**
 * Forgets the user, leaving no row that holds their id:
 * - their direct conversations (found by the pair key), with their messages and queued envelopes;
 * - their conversations' member sets for other services (messaging.conversation_members.changed);
 * - their group memberships: a group they owned passes to its longest-standing admin, else its
 *   longest-standing member; a group left empty is deleted; the rest hear MembershipChanged;
 * - the messages they sent (their envelopes in others' queues go by cascade), their own queue,
 *   their stored items, and their device keys in other messages' recipients and dropped lists;
 * - queued notices to others that name them (DevicesChanged, IdentityKeyChanged,
 *   MessageRetracted): those bodies hold their id as bytes. They are dropped, not rewritten: a
 *   notice about a user who is gone asks nothing of its recipient any more;
 * - the read-models: projection rows, devices, blocks and contacts on either side, policy,
 *   sanction standing;
 * - their rate-limit buckets.
 * Their devices' streams end.
 */
export const accountDeletedConsumer = (deps: MessagingDeps) =>
  defineConsumer({
    name: 'account-deleted',
    eventType: events.accountDeleted,
    async handle(coreEm, { userId }) {
      const em = coreEm as EntityManager;
      const devices = await sqlRows<{ device_id: number }>(em, `select device_id from device_projection where user_id = ? and active`, [userId]);
      const directs = await sqlRows<{ id: string }>(
        em,
        `delete from conversation where kind = 'direct' and (direct_pair_key like ? or direct_pair_key like ?) returning id`,
        [`${userId}:%`, `%:${userId}`],
      );
      const groups = await sqlRows<{ conversation_id: string; role: string }>(
        em,
        `delete from conversation_member where user_id = ? returning conversation_id, role`,
        [userId],
      );
      for (const g of groups.filter((m) => m.role === 'owner')) {
        await sqlRows(
          em,
          `update conversation_member set role = 'owner' where (conversation_id, user_id) = (
             select conversation_id, user_id from conversation_member where conversation_id = ?
             order by role = 'admin' desc, joined_at, user_id limit 1)`,
          [g.conversation_id],
        );
      }
      const groupIds = groups.map((g) => g.conversation_id);
      await sqlRows(
          em,
        `delete from conversation c where c.id = any(?::uuid[]) and not exists (select 1 from conversation_member m where m.conversation_id = c.id)`,
        [groupIds],
      );
      await sqlRows(em, `delete from message where sender_user_id = ?`, [userId]);
      const keyPattern = `${userId}.%`;
      await sqlRows(
          em,
        `update message set recipients = array(select r from unnest(recipients) r where r not like ?),
                            dropped = array(select r from unnest(dropped) r where r not like ?)
         where exists (select 1 from unnest(recipients || dropped) r where r like ?)`,
        [keyPattern, keyPattern, keyPattern],
      );
      await sqlRows(em, `delete from queued_delivery where recipient_user_id = ?`, [userId]);
      await sqlRows(em, `delete from queued_delivery where message_id is null and position(convert_to(?, 'UTF8') in body) > 0`, [userId]);
      await sqlRows(em, `delete from stored_item where user_id = ?`, [userId]);
      const queued: QueuedDelivery[] = [];
      const q = { em, ttlSeconds: deps.settings.messageTtlSeconds };
      for (const conversationId of groupIds) queued.push(...(await membershipChanged(q, conversationId)));
      // Other services' member sets follow: the groups without her, her direct conversations gone.
      for (const conversationId of [...groupIds, ...directs.map((d) => d.id)]) await publishMembersChanged(em, deps.outbox, conversationId);
      await em.nativeDelete(BlockProjectionSchema, { $or: [{ blockerId: userId }, { blockedId: userId }] });
      await em.nativeDelete(ContactProjectionSchema, { $or: [{ userId }, { contactUserId: userId }] });
      await em.nativeDelete(MessagingPolicyProjectionSchema, { userId });
      await em.nativeDelete(DeviceProjectionSchema, { userId });
      await em.nativeDelete(UserProjectionSchema, { userId });
      await forgetSanctionStanding(em, userId);
      await RateLimiter.forget(em, [userId]);
      return () => {
        for (const { device_id } of devices) deps.live.deviceGone({ userId, deviceId: device_id });
        deps.live.delivered(queued);
      };
    },
  });
