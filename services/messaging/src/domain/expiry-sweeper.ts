import { systemClock, type Cancel, type Clock, type Logger, type MikroORM } from '@parley/platform';

/** Rows deleted per statement: short transactions, so sends and acks never wait long behind one. */
const BATCH = 5000;

export interface SweepSettings {
  intervalSeconds: number;
  /** A message stays while its sender may retract it, even once every envelope was acked. */
  retractWindowSeconds: number;
}

/**
 * Every `intervalSeconds`, in bounded batches: deletes expired queue rows and messages (readers
 * already skip them, so when this runs changes only how much space they take), and deletes the
 * settled messages, whose envelopes every recipient device has acked (or had dropped) and whose
 * retract window has passed on the clock: who sent what to whom, and when, is kept no longer than
 * the server needs it. Acks stay one statement; this is the only extra work, one per batch.
 */
export class ExpirySweeper {
  private cancelNext: Cancel | undefined;
  private running: Promise<void> | undefined;
  private stopped = false;

  constructor(
    private readonly orm: MikroORM,
    private readonly settings: SweepSettings,
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

  /** One full sweep: how many queue rows, expired messages and settled messages it deleted. */
  async sweep(): Promise<{ deliveries: number; messages: number; settled: number }> {
    // Queue rows first: a message's own envelopes expire with it and would go by cascade anyway,
    // but notices (no message) only go here.
    const deliveries = await this.deleteInBatches('queued_delivery', 'expires_at <= now()');
    const messages = await this.deleteInBatches('message', 'expires_at <= now()');
    const retractableSince = new Date(this.clock.now() - this.settings.retractWindowSeconds * 1000);
    const settled = await this.deleteInBatches(
      'message',
      'sent_at <= ? and not exists (select 1 from queued_delivery q where q.message_id = message.id)',
      [retractableSince],
    );
    return { deliveries, messages, settled };
  }

  private schedule(): void {
    if (this.stopped) return;
    this.cancelNext = this.clock.schedule(this.settings.intervalSeconds * 1000, () => {
      this.running = this.sweep()
        .then((swept) => {
          if (swept.deliveries + swept.messages + swept.settled > 0) this.log.info(swept, 'expired deliveries and messages, and settled messages, deleted');
        })
        .catch((err: Error) => this.log.error({ err }, 'expiry sweep failed; retrying at the next interval'))
        .finally(() => this.schedule());
    });
  }

  private async deleteInBatches(table: 'queued_delivery' | 'message', condition: string, params: unknown[] = []): Promise<number> {
    let total = 0;
    for (;;) {
      const [{ deleted }]: [{ deleted: number }] = await this.orm.em.fork().execute(
        `with gone as (delete from ${table} where id in (select id from ${table} where ${condition} limit ${BATCH}) returning 1)
         select count(*)::int as deleted from gone`,
        params,
      );
      total += deleted;
      if (deleted < BATCH || this.stopped) return total;
    }
  }
}
