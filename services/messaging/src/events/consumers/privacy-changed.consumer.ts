import { changedAt, defineConsumer, events, ifNotOlder } from '@parley/platform';
import { MessagingPolicyProjectionSchema } from '../../domain/messaging-policy-projection.entity.js';

export const privacyChangedConsumer = defineConsumer({
  name: 'privacy-changed',
  eventType: events.privacyChanged,
  async handle(em, { userId, contactsOnly, groupAdds }, envelope) {
    const at = changedAt(envelope);
    // An event from before the group setting existed carries none: everyone, as then.
    await em.upsert(MessagingPolicyProjectionSchema, { userId, contactsOnly, groupAdds: groupAdds || 'everyone', changedAt: at }, ifNotOlder(at));
  },
});
