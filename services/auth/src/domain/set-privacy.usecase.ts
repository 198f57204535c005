import type { Caller } from '@parley/platform';
import { events } from '@parley/platform';
import type { AuthDeps } from '../deps.js';
import { requireLiveSession } from './live-session.js';
import { UserSchema, type MessagingPolicyName } from './user.entity.js';

/** Sets who may message the caller; only a change is announced, with auth.privacy.changed. */
export async function setPrivacy(deps: AuthDeps, caller: Caller, policy: MessagingPolicyName): Promise<MessagingPolicyName> {
  return deps.orm.em.fork().transactional(async (em) => {
    await requireLiveSession(em, caller);
    const changed = await em.nativeUpdate(UserSchema, { id: caller.userId, messagingPolicy: { $ne: policy } }, { messagingPolicy: policy });
    if (changed > 0) deps.outbox.add(em, events.privacyChanged, { userId: caller.userId, contactsOnly: policy === 'contacts_only' });
    return policy;
  });
}
