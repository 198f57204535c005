import type { Caller } from '@parley/platform';
import type { AuthDeps } from '../deps.js';
import { BlockSchema, ContactRequestSchema, type ContactRequest } from './contact.entity.js';
import { requireLiveSession } from './live-session.js';

/** Pending requests sent to and by the caller, oldest first; none from a user the caller blocks. */
export async function listContactRequests(deps: AuthDeps, caller: Caller): Promise<{ incoming: ContactRequest[]; outgoing: ContactRequest[] }> {
  const em = deps.orm.em.fork();
  const { user } = await requireLiveSession(em, caller);
  const options = { populate: ['from', 'to'] as const, orderBy: { createdAt: 'asc' as const } };
  const blocked = new Set((await em.find(BlockSchema, { blocker: user })).map((b) => b.blocked.id));
  const incoming = (await em.find(ContactRequestSchema, { to: user }, options)).filter((r) => !blocked.has(r.from.id));
  const outgoing = await em.find(ContactRequestSchema, { from: user }, options);
  return { incoming, outgoing };
}
