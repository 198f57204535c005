import type { Caller } from '@parley/platform';
import type { AuthDeps } from '../deps.js';
import { BlockSchema } from './contact.entity.js';
import { requireLiveSession } from './live-session.js';
import type { User } from './user.entity.js';

/** The users the caller blocked, by username. */
export async function listBlockedUsers(deps: AuthDeps, caller: Caller): Promise<User[]> {
  const em = deps.orm.em.fork();
  const { user } = await requireLiveSession(em, caller);
  const blocks = await em.find(BlockSchema, { blocker: user }, { populate: ['blocked'], orderBy: { blocked: { username: 'asc' } } });
  return blocks.map((b) => b.blocked);
}
