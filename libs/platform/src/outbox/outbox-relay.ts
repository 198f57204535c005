import type { EventSubscriber } from '@mikro-orm/core';
import type { MikroORM } from '@mikro-orm/postgresql';
import { jetstream, type JetStreamClient } from '@nats-io/jetstream';
import type { NatsConnection } from '@nats-io/transport-node';
import type { Logger } from 'pino';
import { OutboxEventSchema } from '../db/platform-entities.js';
import type { Metrics } from '../observability/metrics.js';
import { SpanKind, inSpan, traceHeaders } from '../observability/tracing.js';
import { systemClock, type Clock } from '../time/clock.js';

export interface OutboxRelayOptions {
  batchSize?: number;
  idlePollMs?: number;
  maxBackoffMs?: number;
  /** Times the idle poll, the backoff while NATS fails, and drain waits. */
  clock?: Clock;
}

interface Row {
  id: string;
  subject: string;
  payload: Buffer;
  trace_context: string | null;
}

/**
 * Publishes committed outbox rows to JetStream in insertion order (seq), with the event id as msg-id so
 * a re-publish after a crash is dropped by the stream. Rows are locked with SKIP LOCKED, so any
 * number of replicas can relay at once. It wakes after each commit and polls as a fallback.
 */
export class OutboxRelay {
  private readonly js: JetStreamClient;
  private readonly batchSize: number;
  private readonly idlePollMs: number;
  private readonly maxBackoffMs: number;
  private readonly clock: Clock;
  private wakeUp?: () => void;
  private pending = false;
  private backingOff = false;
  private running = false;
  private loop?: Promise<void>;
  /** Publish passes started so far; a drain waiter needs a pass that started after it asked. */
  private passesStarted = 0;
  private drainWaiters: { pass: number; resolve: (drained: boolean) => void }[] = [];

  constructor(
    private readonly orm: MikroORM,
    nc: NatsConnection,
    private readonly log: Logger,
    private readonly metrics: Metrics,
    opts: OutboxRelayOptions = {},
  ) {
    this.js = jetstream(nc, { timeout: 2000 });
    this.batchSize = opts.batchSize ?? 100;
    this.idlePollMs = opts.idlePollMs ?? 1000;
    this.maxBackoffMs = opts.maxBackoffMs ?? 5000;
    this.clock = opts.clock ?? systemClock;
  }

  /** Register with the ORM: a commit that wrote outbox rows wakes the relay at once. */
  static commitSubscriber(relay: () => OutboxRelay | undefined): EventSubscriber {
    const wroteOutbox = new WeakSet<object>();
    return {
      afterCreate: (args) => {
        if (args.meta?.className === OutboxEventSchema.meta.className) wroteOutbox.add(args.em);
      },
      afterTransactionCommit: (args) => {
        if (wroteOutbox.delete(args.em)) relay()?.wake();
      },
    };
  }

  start(): void {
    this.running = true;
    this.loop = this.run();
  }

  async stop(): Promise<void> {
    this.running = false;
    this.wakeUp?.();
    await this.loop;
    this.settleWaiters(false);
  }

  /**
   * Resolves true once every row committed before the call is on the bus, or false after
   * `timeoutMs` (NATS is down, or another replica holds the rows). For callers that must not answer
   * before their event is out, e.g. a revocation the edge has to know about at the next call.
   */
  drained(timeoutMs: number): Promise<boolean> {
    const pass = this.passesStarted + 1;
    return new Promise<boolean>((resolve) => {
      const cancel = this.clock.schedule(timeoutMs, () => settle(false));
      const settle = (drained: boolean) => {
        cancel();
        this.drainWaiters = this.drainWaiters.filter((w) => w.resolve !== settle);
        resolve(drained);
      };
      this.drainWaiters.push({ pass, resolve: settle });
      this.wake();
    });
  }

  private settleWaiters(drained: boolean, upTo = Infinity): void {
    for (const w of this.drainWaiters.filter((w) => w.pass <= upTo)) w.resolve(drained);
  }

  /** New rows were committed. While NATS is failing the relay keeps its backoff instead. */
  wake(): void {
    this.pending = true;
    if (!this.backingOff) this.wakeUp?.();
  }

  private async run(): Promise<void> {
    let failures = 0;
    while (this.running) {
      this.pending = false;
      const pass = ++this.passesStarted;
      let published = 0;
      try {
        published = await this.publishBatch();
        failures = 0;
        if (published < this.batchSize) this.settleWaiters(true, pass);
      } catch (err) {
        failures++;
        this.metrics.outboxFailures.inc();
        if (failures === 1 || failures % 20 === 0) {
          this.log.warn({ err: (err as Error).message, failures }, 'outbox publish failed; will retry');
        }
      }
      this.backingOff = failures > 0;
      if (!this.running) break;
      if (this.backingOff) await this.sleep(Math.min(this.maxBackoffMs, 100 * 2 ** Math.min(failures, 10)));
      else if (published < this.batchSize && !this.pending) await this.sleep(this.idlePollMs);
    }
  }

  private sleep(ms: number): Promise<void> {
    return new Promise<void>((resolve) => {
      const cancel = this.clock.schedule(ms, done);
      function done() {
        cancel();
        resolve();
      }
      this.wakeUp = done;
    }).finally(() => (this.wakeUp = undefined));
  }

  /** Publishes one batch in one transaction; rows published before a failure are still removed. */
  private async publishBatch(): Promise<number> {
    let failure: unknown;
    const published = await this.orm.em.fork().transactional(async (tx) => {
      const rows: Row[] = await tx.execute(
        'select id, subject, payload, trace_context from outbox_event order by seq limit ? for update skip locked',
        [this.batchSize],
      );
      const done: string[] = [];
      for (const row of rows) {
        try {
          await this.publish(row);
        } catch (err) {
          failure = err;
          break;
        }
        done.push(row.id);
      }
      if (done.length) await tx.execute('delete from outbox_event where id in (?)', [done]);
      return done.length;
    });
    this.metrics.outboxPublished.inc(published);
    if (failure) throw failure;
    return published;
  }

  /** The event's publish joins the trace of the work that recorded it, and its headers carry that on. */
  private async publish(row: Row): Promise<void> {
    const recorded = traceHeaders(row.trace_context);
    if (!row.trace_context || !recorded) {
      await this.js.publish(row.subject, row.payload, { msgID: row.id });
      return;
    }
    await inSpan(`publish ${row.subject}`, SpanKind.PRODUCER, recorded, () => this.js.publish(row.subject, row.payload, { msgID: row.id, headers: traceHeaders() }));
  }
}
