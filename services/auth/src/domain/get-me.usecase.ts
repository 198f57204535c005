import type { Caller } from '@parley/platform';
import type { AuthDeps } from '../deps.js';
import type { Device } from './device.entity.js';
import { requireLiveSession } from './live-session.js';
import type { User } from './user.entity.js';

export async function getMe(deps: AuthDeps, caller: Caller): Promise<{ user: User; device: Device }> {
  const session = await requireLiveSession(deps.orm.em.fork(), caller);
  return { user: session.user, device: session.device };
}
