import { EntitySchema } from '@mikro-orm/core';

/** An event waiting to be published; written in the same transaction as the change it describes. */
export interface OutboxEvent {
  id: string;
  /** Assigned by the database in insert order; the relay publishes in this order. */
  seq?: string;
  subject: string;
  payload: Buffer;
  createdAt: Date;
  /** The W3C traceparent of the work that recorded it, sent as a NATS header so consumers join that trace. */
  traceContext?: string | null;
}

export const OutboxEventSchema = new EntitySchema<OutboxEvent>({
  name: 'OutboxEvent',
  tableName: 'outbox_event',
  properties: {
    id: { type: 'uuid', primary: true },
    seq: { type: 'bigint', autoincrement: true, unique: true },
    subject: { type: 'text' },
    payload: { type: 'blob' },
    createdAt: { type: 'datetime' },
    traceContext: { type: 'text', nullable: true },
  },
});

/** The events a consumer has applied; its primary key is what makes redelivery harmless. */
export interface ProcessedEvent {
  consumer: string;
  eventId: string;
  processedAt: Date;
}

export const ProcessedEventSchema = new EntitySchema<ProcessedEvent>({
  name: 'ProcessedEvent',
  tableName: 'processed_event',
  properties: {
    consumer: { type: 'text', primary: true },
    eventId: { type: 'uuid', primary: true },
    processedAt: { type: 'datetime' },
  },
});

export const platformEntities = [OutboxEventSchema, ProcessedEventSchema];
