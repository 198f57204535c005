import type { Caller } from '@parley/platform';
import { events } from '@parley/platform';
import type { AuthDeps } from '../deps.js';
import { requireLiveSession } from './live-session.js';
import { UserSchema, type GroupAddPolicyName, type MessagingPolicyName } from './user.entity.js';

export interface PrivacySettings {
  messagingPolicy: MessagingPolicyName;
  groupAddPolicy: GroupAddPolicyName;
}

/**
 * Sets who may message the caller and who may add them to groups (an omitted setting stays as it
 * is); only a change is announced, with auth.privacy.changed carrying both.
 */
export async function setPrivacy(deps: AuthDeps, caller: Caller, change: Partial<PrivacySettings>): Promise<PrivacySettings> {
  return deps.orm.em.fork().transactional(async (em) => {
    const { user } = await requireLiveSession(em, caller);
    const settings: PrivacySettings = {
      messagingPolicy: change.messagingPolicy ?? user.messagingPolicy,
      groupAddPolicy: change.groupAddPolicy ?? user.groupAddPolicy,
    };
    const changed = await em.nativeUpdate(
      UserSchema,
      { id: caller.userId, $or: [{ messagingPolicy: { $ne: settings.messagingPolicy } }, { groupAddPolicy: { $ne: settings.groupAddPolicy } }] },
      settings,
    );
    if (changed > 0) {
      deps.outbox.add(em, events.privacyChanged, {
        userId: caller.userId,
        contactsOnly: settings.messagingPolicy === 'contacts_only',
        groupAdds: settings.groupAddPolicy,
      });
    }
    return settings;
  });
}
