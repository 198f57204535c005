import { timestampDate } from '@bufbuild/protobuf/wkt';
import type { EntityManager } from '@mikro-orm/postgresql';
import { changedAt, defineConsumer, events, sqlRows } from '@parley/platform';
import type { ModerationDeps } from '../../deps.js';
import { recordActivity } from '../../domain/auto-moderation.js';

/**
 * Counts a send (metadata only) for the sends rule, and, from an account still young by the rules'
 * standard, a direct message to a non-contact for the new-account-strangers rule.
 */
export const messageSentConsumer = (deps: Pick<ModerationDeps, 'rules' | 'outbox'>) =>
  defineConsumer({
    name: 'message-sent',
    eventType: events.messageSent,
    async handle(coreEm, sent, envelope) {
      const em = coreEm as EntityManager;
      const at = sent.sentAt ? timestampDate(sent.sentAt) : changedAt(envelope);
      const userId = sent.senderUserId;
      await recordActivity(em, deps, { userId, kind: 'message.sent', at });
      const peer = sent.directPeerUserId;
      if (!peer) return;
      const young = new Date(at.getTime() - deps.rules.rules.newAccountStrangers.accountAgeSeconds * 1000);
      const [stranger] = await sqlRows(
        em,
        `select 1 from moderation_user u where u.user_id = ? and u.registered_at > ?
           and not exists (select 1 from contact_pair c where c.user_id = ? and c.contact_user_id = ?)`,
        [userId, young, userId, peer],
      );
      if (stranger) await recordActivity(em, deps, { userId, kind: 'stranger.messaged', peerId: peer, at });
    },
  });
