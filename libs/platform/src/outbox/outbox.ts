import type { DescMessage, MessageInitShape } from '@bufbuild/protobuf';
import type { EntityManager } from '@mikro-orm/core';
import type { Subjects } from '../bus/subjects.js';
import type { EventType } from '../events/catalog.js';
import { encodeEnvelope, packEvent, packEventHead } from '../events/envelope.js';
import { OutboxEventSchema } from '../db/platform-entities.js';
import { traceparentNow } from '../observability/tracing.js';
import type { OutboxRelay } from './outbox-relay.js';

/** Records events inside the caller's transaction; the relay publishes them after commit. */
export class Outbox {
  constructor(
    private readonly producer: string,
    private readonly subjects: Subjects,
    private readonly relay: () => OutboxRelay | undefined = () => undefined,
  ) {}

  /** Waits until what this process committed so far is published; false if that took too long. */
  async published(timeoutMs = 2000): Promise<boolean> {
    return (await this.relay()?.drained(timeoutMs)) ?? false;
  }

  /** `em` must be the transaction's entity manager, so the event commits (or not) with the change. */
  add<D extends DescMessage>(em: EntityManager, type: EventType<D>, payload: MessageInitShape<D>): string {
    const envelope = packEvent(this.producer, type, payload);
    em.create(OutboxEventSchema, {
      id: envelope.id,
      subject: this.subjects.of(type),
      payload: Buffer.from(encodeEnvelope(envelope)),
      createdAt: new Date(),
      traceContext: traceparentNow(),
    });
    return envelope.id;
  }

  /**
   * An event a plain-SQL statement records itself, in its own transaction: its id, its subject,
   * and its envelope encoded without the payload, which the statement appends as field 5 of the
   * envelope (an Any of `typeUrl`). Call `wake` once that statement committed.
   */
  headOf(type: EventType): { id: string; subject: string; head: Uint8Array; typeUrl: string } {
    const envelope = packEventHead(this.producer, type);
    return { id: envelope.id, subject: this.subjects.of(type), head: encodeEnvelope(envelope), typeUrl: `type.googleapis.com/${type.schema.typeName}` };
  }

  /** After a plain-SQL commit that wrote outbox rows (the ORM's commits wake the relay themselves). */
  wake(): void {
    this.relay()?.wake();
  }
}

