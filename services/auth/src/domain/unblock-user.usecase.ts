import type { Caller } from '@parley/platform';
import { events } from '@parley/platform';
import type { AuthDeps } from '../deps.js';
import { BlockSchema } from './contact.entity.js';
import { lockPair, parseOtherUserId } from './contacts.js';
import { requireLiveSession } from './live-session.js';

/** Lifts the caller's block on `userId` (auth.user.unblocked); lifting a block that isn't there is a no-op. */
export async function unblockUser(deps: AuthDeps, caller: Caller, input: { userId: string }): Promise<void> {
  const otherId = parseOtherUserId(input.userId, caller.userId, "you can't unblock yourself");
  await deps.orm.em.fork().transactional(async (em) => {
    const { user } = await requireLiveSession(em, caller);
    await lockPair(em, user.id, otherId);
    const deleted = await em.nativeDelete(BlockSchema, { blocker: user, blocked: otherId });
    if (deleted > 0) deps.outbox.add(em, events.userUnblocked, { blockerId: user.id, blockedId: otherId });
  });
}
