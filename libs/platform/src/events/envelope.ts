import { randomUUID } from 'node:crypto';
import { create, createRegistry, fromBinary, toBinary, type DescMessage, type MessageInitShape, type MessageShape } from '@bufbuild/protobuf';
import { anyPack, anyUnpack, timestampNow } from '@bufbuild/protobuf/wkt';
import { EventEnvelopeSchema, type EventEnvelope } from '@parley/proto';
import { allEventTypes, type EventType } from './catalog.js';

const registry = createRegistry(...allEventTypes.map((t) => t.schema));

export function packEvent<D extends DescMessage>(producer: string, type: EventType<D>, payload: MessageInitShape<D>): EventEnvelope {
  return create(EventEnvelopeSchema, {
    id: randomUUID(),
    type: type.name,
    occurredAt: timestampNow(),
    producer,
    payload: anyPack(type.schema, create(type.schema, payload)),
  });
}

/**
 * An envelope without its payload (field 5, encoded last), for a SQL statement that appends the
 * payload itself when only the database knows part of it (see Outbox.headOf).
 */
export function packEventHead(producer: string, type: EventType): EventEnvelope {
  return create(EventEnvelopeSchema, { id: randomUUID(), type: type.name, occurredAt: timestampNow(), producer });
}

export function encodeEnvelope(envelope: EventEnvelope): Uint8Array {
  return toBinary(EventEnvelopeSchema, envelope);
}

/** Decodes an envelope and its payload; throws when either is not what `type` says. */
export function decodeEvent<D extends DescMessage>(
  type: EventType<D>,
  data: Uint8Array,
): { envelope: EventEnvelope; payload: MessageShape<D> } {
  const envelope = fromBinary(EventEnvelopeSchema, data);
  if (envelope.type !== type.name) throw new Error(`expected event ${type.name}, got ${envelope.type}`);
  if (!envelope.id) throw new Error('event has no id');
  const payload = envelope.payload && anyUnpack(envelope.payload, registry);
  if (!payload || payload.$typeName !== type.schema.typeName) {
    throw new Error(`event ${envelope.id} does not carry a ${type.schema.typeName}`);
  }
  return { envelope, payload: payload as MessageShape<D> };
}
