import { LOCK_NOT_AVAILABLE, sqlState, type AdvisoryLocks, type HeldLock } from '@parley/platform';
import { ERRORS, MemoryLocker, type Lock, type Locker, type RequestRelease } from '@tus/server';
import { HttpRefusal } from './caller.js';

/** How long a request waits for an upload's lock in this process, as tus's own locker does by default (AdvisoryLocks bound the wait across processes). */
const ACQUIRE_TIMEOUT_MS = 30_000;

/**
 * tus upload locks that hold across media replicas, so two PATCHes to one upload never write at
 * once. In one process, tus's MemoryLocker queues requests and asks the holder to let go (a resumed
 * upload takes over from its own stalled request at once); then a PostgreSQL advisory lock named
 * after the upload excludes the other replicas, whose requests wait for the holder to finish (at
 * most the edge's request timeout), or answer 423 after the locks' wait timeout.
 */
export function uploadLocker(locks: AdvisoryLocks): Locker {
  const inProcess = new MemoryLocker({ acquireLockTimeout: ACQUIRE_TIMEOUT_MS });
  return {
    newLock(id: string): Lock {
      const local = inProcess.newLock(id);
      let shared: HeldLock | undefined;
      return {
        async lock(signal: AbortSignal, requestRelease: RequestRelease) {
          await local.lock(signal, requestRelease);
          try {
            shared = await locks.acquire(`media-upload-lock:${id}`, signal);
          } catch (err) {
            await local.unlock();
            if (signal.aborted) throw ERRORS.ABORTED;
            // 423, as tusd answers a locked upload: tus clients retry it.
            if (sqlState(err) === LOCK_NOT_AVAILABLE) throw new HttpRefusal(423, 'another request is still writing this upload: retry (HEAD, then PATCH)\n');
            throw err;
          }
        },
        async unlock() {
          await shared?.release();
          shared = undefined;
          await local.unlock();
        },
      };
    },
  };
}
