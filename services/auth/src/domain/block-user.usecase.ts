import type { Caller } from '@parley/platform';
import { events } from '@parley/platform';
import type { AuthDeps } from '../deps.js';
import { dropRequests, endContact, lockPair, parseOtherUserId, requireUser } from './contacts.js';
import { requireLiveSession } from './live-session.js';

/**
 * Blocks `userId`: any contact (auth.contact.removed) and pending request between the two ends, then
 * auth.user.blocked. Blocking someone already blocked changes nothing and announces nothing.
 */
export async function blockUser(deps: AuthDeps, caller: Caller, input: { userId: string }): Promise<void> {
  const otherId = parseOtherUserId(input.userId, caller.userId, "you can't block yourself");
  await deps.orm.em.fork().transactional(async (em) => {
    const { user } = await requireLiveSession(em, caller);
    await lockPair(em, user.id, otherId);
    await requireUser(em, otherId);
    const inserted: unknown[] = await em.execute(
      'insert into block (blocker_id, blocked_id, created_at) values (?, ?, now()) on conflict do nothing returning 1',
      [user.id, otherId],
    );
    if (inserted.length === 0) return;
    await endContact(em, deps, user.id, otherId);
    await dropRequests(em, user.id, otherId);
    deps.outbox.add(em, events.userBlocked, { blockerId: user.id, blockedId: otherId });
  });
}
