import type { Caller } from '@parley/platform';
import type { AuthDeps } from '../deps.js';
import { requireLiveSession } from './live-session.js';
import type { MessagingPolicyName } from './user.entity.js';

export async function getPrivacy(deps: AuthDeps, caller: Caller): Promise<MessagingPolicyName> {
  const { user } = await requireLiveSession(deps.orm.em.fork(), caller);
  return user.messagingPolicy;
}
