import { systemClock, type Cancel, type Clock, type Logger, type MikroORM } from '@parley/platform';

/** Rows deleted per statement: short transactions, so sends and acks never wait long behind one. */
const BATCH = 5000;

/**
 * Deletes expired queue rows and messages every `intervalSeconds`, in bounded batches. Readers
 * already skip expired rows, so when this runs changes only how much space they take.
 */
export class ExpirySweeper {
  private cancelNext: Cancel | undefined;
  private running: Promise<void> | undefined;
  private stopped = false;

  constructor(
    private readonly orm: MikroORM,
    private readonly intervalSeconds: number,
    private readonly log: Logger,
    private readonly clock: Clock = systemClock,
  ) {}

  start(): void {
    this.schedule();
  }

  /** Waits for a sweep in progress, and starts no other. */
  async stop(): Promise<void> {
    this.stopped = true;
    this.cancelNext?.();
    await this.running;
  }

  /** One full sweep: how many queue rows and messages it deleted. */
  async sweep(): Promise<{ deliveries: number; messages: number }> {
    // Queue rows first: a message's own envelopes expire with it and would go by cascade anyway,
    // but notices (no message) only go here.
    const deliveries = await this.deleteExpired('queued_delivery');
    const messages = await this.deleteExpired('message');
    return { deliveries, messages };
  }

  private schedule(): void {
    if (this.stopped) return;
    this.cancelNext = this.clock.schedule(this.intervalSeconds * 1000, () => {
      this.running = this.sweep()
        .then((swept) => {
          if (swept.deliveries + swept.messages > 0) this.log.info(swept, 'expired deliveries and messages deleted');
        })
        .catch((err: Error) => this.log.error({ err }, 'expiry sweep failed; retrying at the next interval'))
        .finally(() => this.schedule());
    });
  }

  private async deleteExpired(table: 'queued_delivery' | 'message'): Promise<number> {
    let total = 0;
    for (;;) {
      const [{ deleted }]: [{ deleted: number }] = await this.orm.em.fork().execute(
        `with gone as (delete from ${table} where id in (select id from ${table} where expires_at <= now() limit ${BATCH}) returning 1)
         select count(*)::int as deleted from gone`,
      );
      total += deleted;
      if (deleted < BATCH || this.stopped) return total;
    }
  }
}
