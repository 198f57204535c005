import type { EntityManager } from '@mikro-orm/postgresql';
import type { KeysDeps } from '../deps.js';
import type { LogSnapshot } from './identity-log.js';

/** The log's current head, freshly signed. */
export function getTreeHead(deps: KeysDeps): Promise<LogSnapshot> {
  return deps.identityLog.snapshot(deps.orm.em.fork() as EntityManager);
}
