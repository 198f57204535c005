import type { Caller } from '@parley/platform';
import type { AuthDeps } from '../deps.js';
import { ContactSchema, type Contact } from './contact.entity.js';
import { requireLiveSession } from './live-session.js';

/** The caller's contacts, by username. */
export async function listContacts(deps: AuthDeps, caller: Caller): Promise<Contact[]> {
  const em = deps.orm.em.fork();
  const { user } = await requireLiveSession(em, caller);
  return em.find(ContactSchema, { user }, { populate: ['contact'], orderBy: { contact: { username: 'asc' } } });
}
