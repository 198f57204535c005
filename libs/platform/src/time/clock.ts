/** Cancels a scheduled call; harmless once it ran or was cancelled. */
export type Cancel = () => void;

/**
 * Time as timed logic reads it and waits on it: expiries, backoffs, polls. Services run on
 * `systemClock`; a test hands in a manual clock (`ManualClock` in @parley/testing) and moves it
 * itself, so a backoff or an expiry is checked exactly, however busy the machine is.
 */
export interface Clock {
  /** Milliseconds since the epoch. */
  now(): number;
  /** Calls `fn` once, `ms` from now. */
  schedule(ms: number, fn: () => void): Cancel;
}

export const systemClock: Clock = {
  now: () => Date.now(),
  schedule(ms, fn) {
    const timer = setTimeout(fn, ms);
    return () => clearTimeout(timer);
  },
};

