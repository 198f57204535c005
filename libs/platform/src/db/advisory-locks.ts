import pg from 'pg';

/** A lock taken from `AdvisoryLocks`, held until released. */
export interface HeldLock {
  release(): Promise<void>;
}

/** PostgreSQL's answer to a lock not granted within lock_timeout. */
export const LOCK_NOT_AVAILABLE = '55P03';

const KEY = 'hashtextextended($1, 0)';

/**
 * Named locks that every process on the same database respects: PostgreSQL session advisory locks
 * (keyed by a hash of the name), each held on a connection of this pool for as long as it is held,
 * so `max` bounds how many one process holds or waits for at once. A connection that breaks
 * releases its locks in PostgreSQL too, so a crashed holder never blocks the others for good.
 */
export class AdvisoryLocks {
  private readonly pool: pg.Pool;

  /** `waitTimeoutMs`: how long `acquire` waits before failing with SQLSTATE 55P03 (`LOCK_NOT_AVAILABLE`). */
  constructor(
    private readonly url: string,
    max: number,
    waitTimeoutMs = 30_000,
  ) {
    this.pool = new pg.Pool({ connectionString: url, max, idleTimeoutMillis: 30_000, options: `-c lock_timeout=${waitTimeoutMs}` });
    this.pool.on('error', () => undefined);
  }

  /** Takes the lock if no other session holds it; undefined if one does. Never waits for it. */
  async tryAcquire(name: string): Promise<HeldLock | undefined> {
    const client = await this.pool.connect();
    const { rows } = await client.query<{ locked: boolean }>(`select pg_try_advisory_lock(${KEY}) as locked`, [name]).catch((err: unknown) => {
      client.release(true);
      throw err;
    });
    if (rows[0]?.locked) return held(client, name);
    client.release();
    return undefined;
  }

  /**
   * Waits for the lock in PostgreSQL (a waiter shows in pg_locks as not granted), until the wait
   * timeout, or until `signal` aborts: then the wait is cancelled and its reason thrown.
   */
  async acquire(name: string, signal: AbortSignal): Promise<HeldLock> {
    signal.throwIfAborted();
    const client = await this.pool.connect();
    const cancel = () => void this.cancel(client);
    signal.addEventListener('abort', cancel, { once: true });
    try {
      await client.query(`select pg_advisory_lock(${KEY})`, [name]);
    } catch (err) {
      client.release(true);
      signal.throwIfAborted();
      throw err;
    } finally {
      signal.removeEventListener('abort', cancel);
    }
    const lock = held(client, name);
    if (signal.aborted) {
      await lock.release();
      signal.throwIfAborted();
    }
    return lock;
  }

  /** Cancels what `client` waits for, from a connection of its own (the pool's may all be waiting). */
  private async cancel(client: pg.PoolClient): Promise<void> {
    const canceller = new pg.Client({ connectionString: this.url });
    await canceller
      .connect()
      .then(() => canceller.query('select pg_cancel_backend($1)', [(client as unknown as { processID: number }).processID]))
      .catch(() => undefined);
    await canceller.end().catch(() => undefined);
  }

  close(): Promise<void> {
    return this.pool.end();
  }
}

function held(client: pg.PoolClient, name: string): HeldLock {
  let released = false;
  return {
    async release() {
      if (released) return;
      released = true;
      // If unlocking fails, dropping the connection ends the session and its lock with it.
      await client.query(`select pg_advisory_unlock(${KEY})`, [name]).then(
        () => client.release(),
        () => client.release(true),
      );
    },
  };
}
