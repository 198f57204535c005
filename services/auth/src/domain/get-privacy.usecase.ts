import type { Caller } from '@parley/platform';
import type { AuthDeps } from '../deps.js';
import { requireLiveSession } from './live-session.js';
import type { PrivacySettings } from './set-privacy.usecase.js';

export async function getPrivacy(deps: AuthDeps, caller: Caller): Promise<PrivacySettings> {
  const { user } = await requireLiveSession(deps.orm.em.fork(), caller);
  return { messagingPolicy: user.messagingPolicy, groupAddPolicy: user.groupAddPolicy };
}
