import type { DescMessage, MessageShape } from '@bufbuild/protobuf';
import type { EntityManager } from '@mikro-orm/core';
import type { MikroORM } from '@mikro-orm/postgresql';
import { AckPolicy, DeliverPolicy, jetstream, jetstreamManager, type JsMsg } from '@nats-io/jetstream';
import { headers } from '@nats-io/nats-core';
import type { NatsConnection } from '@nats-io/transport-node';
import type { EventEnvelope } from '@parley/proto';
import type { Logger } from 'pino';
import type { Subjects } from '../bus/subjects.js';
import { databaseUnavailable } from '../db/database-unavailable.js';
import { ensureEventStream, isNotFound } from '../bus/stream.js';
import type { EventType } from '../events/catalog.js';
import { decodeEvent } from '../events/envelope.js';
import type { Metrics } from '../observability/metrics.js';
import { SpanKind, inSpan } from '../observability/tracing.js';

/** Work a handler leaves for after its transaction commits (e.g. signals about what it wrote). */
export type AfterCommit = () => void;

/**
 * One consumer handles one subject. Its handler runs inside the transaction that records the event;
 * what it returns runs once that transaction commits, and never for a duplicate or a failure.
 */
export interface ConsumerSpec<D extends DescMessage = DescMessage> {
  /** Unique within the service, e.g. "user-projection"; the durable is "<service>_<name>". */
  name: string;
  eventType: EventType<D>;
  handle(em: EntityManager, payload: MessageShape<D>, envelope: EventEnvelope): Promise<void | AfterCommit>;
}

export function defineConsumer<D extends DescMessage>(spec: ConsumerSpec<D>): ConsumerSpec {
  return spec as unknown as ConsumerSpec;
}

export interface ConsumerRuntime {
  service: string;
  orm: MikroORM;
  nc: NatsConnection;
  subjects: Subjects;
  streamReplicas: number;
  maxAttempts: number;
  log: Logger;
  metrics: Metrics;
}

type Outcome = 'applied' | 'duplicate' | 'retried' | 'dead_lettered';

/** How long NATS holds back the redelivery of an event whose `attempt`-th handling failed. */
export function retryDelayMs(attempt: number): number {
  return Math.min(30_000, 200 * 2 ** attempt);
}

/**
 * Runs a durable JetStream pull consumer. Each event is applied at most once per consumer: its id
 * is inserted into processed_event in the same transaction as the handler's writes, and the
 * message is acked only after that commit. Failures are retried with backoff; after `maxAttempts`
 * deliveries it goes to the dead-letter subject (unless the database is unavailable: then it waits),
 * and an undecodable message goes there at once.
 */
export class IdempotentConsumer {
  private stopped = false;
  private stopCurrent?: () => void;
  private loop?: Promise<void>;
  readonly durable: string;

  constructor(
    private readonly spec: ConsumerSpec,
    private readonly rt: ConsumerRuntime,
  ) {
    this.durable = `${rt.service}_${spec.name}`.replace(/[^A-Za-z0-9_-]/g, '_');
  }

  async start(): Promise<void> {
    await this.ensureConsumer();
    this.loop = this.run();
  }

  /** Consumer lag: events on the stream not yet handled, delivered-but-unacked ones included. */
  async pending(): Promise<number> {
    const jsm = await jetstreamManager(this.rt.nc);
    const info = await jsm.consumers.info(this.rt.subjects.stream, this.durable);
    return info.num_pending + info.num_ack_pending;
  }

  async stop(): Promise<void> {
    this.stopped = true;
    this.stopCurrent?.();
    await this.loop;
  }

  private async ensureConsumer(): Promise<void> {
    const jsm = await ensureEventStream(this.rt.nc, this.rt.subjects, this.rt.streamReplicas);
    const config = {
      durable_name: this.durable,
      filter_subject: this.rt.subjects.of(this.spec.eventType),
      ack_policy: AckPolicy.Explicit,
      deliver_policy: DeliverPolicy.All,
      ack_wait: 30e9,
      max_deliver: -1,
      max_ack_pending: 1000,
    };
    try {
      await jsm.consumers.info(this.rt.subjects.stream, this.durable);
      await jsm.consumers.update(this.rt.subjects.stream, this.durable, config);
    } catch (err) {
      if (!isNotFound(err)) throw err;
      await jsm.consumers.add(this.rt.subjects.stream, config);
    }
  }

  private async run(): Promise<void> {
    const js = jetstream(this.rt.nc);
    while (!this.stopped) {
      try {
        const consumer = await js.consumers.get(this.rt.subjects.stream, this.durable);
        const messages = await consumer.consume({ max_messages: 100 });
        this.stopCurrent = () => void messages.close();
        for await (const msg of messages) {
          await this.process(msg);
          if (this.stopped) break;
        }
      } catch (err) {
        if (this.stopped) break;
        this.rt.log.warn({ consumer: this.durable, err: (err as Error).message }, 'consumer interrupted; resuming');
        await new Promise((r) => setTimeout(r, 1000));
        if (isNotFound(err)) await this.ensureConsumer().catch(() => undefined);
      }
    }
  }

  private async process(msg: JsMsg): Promise<void> {
    // The handling joins the trace of the request that caused the event (outbox-relay.ts).
    const outcome = await inSpan(`process ${msg.subject}`, SpanKind.CONSUMER, msg.headers, () => this.handle(msg));
    this.rt.metrics.eventsConsumed.inc({ consumer: this.durable, outcome });
  }

  private async handle(msg: JsMsg): Promise<Outcome> {
    let event: ReturnType<typeof decodeEvent>;
    try {
      event = decodeEvent(this.spec.eventType, msg.data);
    } catch (err) {
      return this.deadLetter(msg, err as Error);
    }
    try {
      const outcome = await this.apply(event.envelope, event.payload);
      msg.ack();
      return outcome;
    } catch (err) {
      return this.fail(msg, err as Error);
    }
  }

  private async apply(envelope: EventEnvelope, payload: MessageShape<DescMessage>): Promise<Outcome> {
    const after: { run?: AfterCommit } = {};
    const outcome = await this.rt.orm.em.fork().transactional(async (em): Promise<Outcome> => {
      const inserted: unknown[] = await em.execute(
        'insert into processed_event (consumer, event_id, processed_at) values (?, ?, now()) on conflict do nothing returning event_id',
        [this.durable, envelope.id],
      );
      if (inserted.length === 0) return 'duplicate';
      after.run = (await this.spec.handle(em, payload, envelope)) ?? undefined;
      return 'applied';
    });
    // The event is recorded: a throw here must not make it retry (it would be a duplicate).
    try {
      after.run?.();
    } catch (err) {
      this.rt.log.warn({ consumer: this.durable, err: (err as Error).message }, 'after-commit work failed');
    }
    return outcome;
  }

  private async fail(msg: JsMsg, err: Error): Promise<Outcome> {
    const attempt = msg.info.deliveryCount;
    // A database outage is not the event's fault: it waits for the database, however long that takes.
    const outage = databaseUnavailable(err);
    if (attempt >= this.rt.maxAttempts && !outage) return this.deadLetter(msg, err);
    this.rt.log.warn({ consumer: this.durable, seq: msg.seq, attempt, err: err.message }, 'event handling failed; will retry');
    msg.nak(retryDelayMs(attempt));
    return 'retried';
  }

  private async deadLetter(msg: JsMsg, err: Error): Promise<Outcome> {
    const log = { consumer: this.durable, seq: msg.seq, attempt: msg.info.deliveryCount, err: err.message };
    try {
      const js = jetstream(this.rt.nc);
      await js.publish(this.rt.subjects.deadLetter(this.durable), msg.data, {
        headers: deadLetterHeaders(msg, err.message),
      });
      // No reason: servers before 2.10 ignore "+TERM <reason>" and would redeliver the message
      // after ack_wait, dead-lettering it again and again. The reason is in the header above.
      msg.term();
      this.rt.log.error(log, 'event dead-lettered');
      return 'dead_lettered';
    } catch (dlqErr) {
      this.rt.log.error({ ...log, dlqErr: (dlqErr as Error).message }, 'could not dead-letter; will retry');
      msg.nak(5000);
      return 'retried';
    }
  }
}

function deadLetterHeaders(msg: JsMsg, reason: string) {
  const h = headers();
  h.set('Parley-Dead-Letter-Reason', reason.slice(0, 500));
  h.set('Parley-Original-Subject', msg.subject);
  h.set('Parley-Original-Sequence', String(msg.seq));
  return h;
}
