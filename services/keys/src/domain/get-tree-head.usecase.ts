import type { EntityManager } from '@mikro-orm/postgresql';
import type { LogSnapshot } from './identity-log.js';
import type { KeysDeps } from './keys-deps.js';

/** The log's current head, freshly signed. */
export function getTreeHead(deps: KeysDeps): Promise<LogSnapshot> {
  return deps.log.snapshot(deps.orm.em.fork() as EntityManager);
}
