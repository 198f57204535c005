import { create, toBinary } from '@bufbuild/protobuf';
import { anyPack, timestampNow } from '@bufbuild/protobuf/wkt';
import { EventEnvelopeSchema, GetJwksRequestSchema, UserRegisteredSchema } from '@parley/proto';
import { UUID_PATTERN } from '../limits/uuid.js';
import { events, type EventType } from './catalog.js';
import { decodeEvent, encodeEnvelope, packEvent } from './envelope.js';

describe('event envelope', () => {
  it('round-trips a UserRegistered through bytes', () => {
    const envelope = packEvent('auth', events.userRegistered, { userId: 'u-1', username: 'alice' });
    const { envelope: decoded, payload } = decodeEvent(events.userRegistered, encodeEnvelope(envelope));

    expect(decoded.id).toMatch(UUID_PATTERN);
    expect(decoded.id).toBe(envelope.id);
    expect(decoded.type).toBe('auth.user.registered');
    expect(decoded.producer).toBe('auth');
    expect(decoded.occurredAt?.seconds).toBe(envelope.occurredAt?.seconds);
    expect(payload.$typeName).toBe(UserRegisteredSchema.typeName);
    expect(payload.userId).toBe('u-1');
    expect(payload.username).toBe('alice');
  });

  it('gives every event its own id', () => {
    const a = packEvent('auth', events.userRegistered, { userId: 'u-1' });
    const b = packEvent('auth', events.userRegistered, { userId: 'u-1' });
    expect(a.id).not.toBe(b.id);
  });

  it('rejects an envelope of another event type', () => {
    // Same payload schema, different name: only the envelope's type tells them apart.
    const other: EventType<typeof UserRegisteredSchema> = { name: 'auth.user.deleted', schema: UserRegisteredSchema };
    const bytes = encodeEnvelope(packEvent('auth', events.userRegistered, { userId: 'u-1' }));
    expect(() => decodeEvent(other, bytes)).toThrow('expected event auth.user.deleted, got auth.user.registered');
  });

  it('rejects bytes that are not an envelope', () => {
    const garbage = new Uint8Array([0xff, 0xff, 0xff, 0xff, 0xff, 0xff]);
    expect(() => decodeEvent(events.userRegistered, garbage)).toThrow();
  });

  it('rejects an envelope whose Any payload is a different message', () => {
    const envelope = create(EventEnvelopeSchema, {
      id: '6f1c1f4e-4a8e-4c55-9a3e-1b8a3f0e9d11',
      type: events.userRegistered.name,
      occurredAt: timestampNow(),
      producer: 'auth',
      payload: anyPack(GetJwksRequestSchema, create(GetJwksRequestSchema)),
    });
    expect(() => decodeEvent(events.userRegistered, toBinary(EventEnvelopeSchema, envelope))).toThrow(
      /does not carry a parley\.events\.v1\.UserRegistered/,
    );
  });

  it('rejects an envelope without payload or without id', () => {
    const base = { type: events.userRegistered.name, producer: 'auth' };
    const noPayload = create(EventEnvelopeSchema, { ...base, id: '6f1c1f4e-4a8e-4c55-9a3e-1b8a3f0e9d11' });
    expect(() => decodeEvent(events.userRegistered, toBinary(EventEnvelopeSchema, noPayload))).toThrow(/does not carry/);
    const noId = create(EventEnvelopeSchema, { ...base, payload: anyPack(UserRegisteredSchema, create(UserRegisteredSchema)) });
    expect(() => decodeEvent(events.userRegistered, toBinary(EventEnvelopeSchema, noId))).toThrow('event has no id');
  });
});
