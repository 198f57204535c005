import type { Caller } from '@parley/platform';
import type { AuthDeps } from '../deps.js';
import { ContactRequestSchema, type ContactRequest } from './contact.entity.js';
import { requireLiveSession } from './live-session.js';

/** Pending requests sent to and by the caller, oldest first. */
export async function listContactRequests(deps: AuthDeps, caller: Caller): Promise<{ incoming: ContactRequest[]; outgoing: ContactRequest[] }> {
  const em = deps.orm.em.fork();
  const { user } = await requireLiveSession(em, caller);
  const options = { populate: ['from', 'to'] as const, orderBy: { createdAt: 'asc' as const } };
  const incoming = await em.find(ContactRequestSchema, { to: user }, options);
  const outgoing = await em.find(ContactRequestSchema, { from: user }, options);
  return { incoming, outgoing };
}
