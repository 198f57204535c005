import type { EntityManager } from '@mikro-orm/postgresql';
import type { ModerationDeps } from '../deps.js';
import { pruneActivity } from './auto-moderation.js';
import { expireSanctions } from './sanctions.js';

/**
 * Every interval on the deps' clock: ends expired sanctions (publishing each expiry) and forgets
 * activity older than every rule's window. A failed sweep is retried at the next.
 */
export function startSweeper(deps: Pick<ModerationDeps, 'orm' | 'outbox' | 'clock' | 'log' | 'settings' | 'rules'>): { stop(): void } {
  let cancel = () => {};
  let stopped = false;
  const sweep = async () => {
    await expireSanctions(deps);
    await pruneActivity(deps.orm.em.fork() as EntityManager, deps.rules, new Date(deps.clock.now()));
  };
  const tick = () => {
    void sweep()
      .catch((err: unknown) => deps.log.warn({ err }, 'moderation sweep failed; retrying at the next'))
      .finally(() => {
        if (!stopped) cancel = deps.clock.schedule(deps.settings.sweepIntervalMs, tick);
      });
  };
  tick();
  return {
    stop() {
      stopped = true;
      cancel();
    },
  };
}
