/** Cancels a scheduled call; harmless once it ran or was cancelled. */
export type Cancel = () => void;

/**
 * Time as the SDK's timed logic reads it: token refresh, prekey rotation, reconnect backoff. Apps
 * use `systemClock`; tests hand in a manual clock (the shape matches @parley/platform's Clock).
 */
export interface Clock {
  now(): number;
  schedule(ms: number, fn: () => void): Cancel;
}

export const systemClock: Clock = {
  now: () => Date.now(),
  schedule(ms, fn) {
    const timer = setTimeout(fn, ms);
    // In Node, a pending refresh or rotation must not keep a finished program alive.
    (timer as { unref?: () => void }).unref?.();
    return () => clearTimeout(timer);
  },
};

/** Waits `ms` on `clock`; rejects at once if `signal` aborts. */
export function sleep(clock: Clock, ms: number, signal?: AbortSignal): Promise<void> {
  return new Promise((resolve, reject) => {
    if (signal?.aborted) return reject(signal.reason);
    const onAbort = () => {
      cancel();
      reject(signal?.reason);
    };
    const cancel = clock.schedule(ms, () => {
      signal?.removeEventListener('abort', onAbort);
      resolve();
    });
    signal?.addEventListener('abort', onAbort, { once: true });
  });
}

/** Exponential backoff with full jitter: a random wait in [0, min(cap, base·2^attempt)). */
export function backoffDelay(attempt: number, random: () => number = Math.random, baseMs = 250, capMs = 15_000): number {
  return Math.floor(random() * Math.min(capMs, baseMs * 2 ** attempt));
}
