import type { Caller } from '@parley/platform';
import { ContactSchema, type Contact } from './contact.entity.js';
import type { ContactDeps } from './contact-deps.js';
import { requireLiveSession } from './live-session.js';

/** The caller's contacts, by username. */
export async function listContacts(deps: ContactDeps, caller: Caller): Promise<Contact[]> {
  const em = deps.orm.em.fork();
  const { user } = await requireLiveSession(em, caller);
  return em.find(ContactSchema, { user }, { populate: ['contact'], orderBy: { contact: { username: 'asc' } } });
}
