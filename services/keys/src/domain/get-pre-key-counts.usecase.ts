import type { EntityManager } from '@mikro-orm/postgresql';
import type { Caller } from '@parley/platform';
import type { KeysDeps } from '../deps.js';
import { preKeyCounts, type PreKeyCounts } from './prekey-counts.js';

/** The calling device's one-time prekeys left; zeros before its first upload. */
export function getPreKeyCounts(deps: KeysDeps, caller: Caller): Promise<PreKeyCounts> {
  return preKeyCounts(deps.orm.em.fork() as EntityManager, caller.userId, caller.deviceId);
}
