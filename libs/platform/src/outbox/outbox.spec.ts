import { BinaryWriter, WireType } from '@bufbuild/protobuf/wire';
import { create, toBinary } from '@bufbuild/protobuf';
import { MessageSentSchema } from '@parley/proto';
import { Subjects } from '../bus/subjects.js';
import { events } from '../events/catalog.js';
import { decodeEvent } from '../events/envelope.js';
import { Outbox } from './outbox.js';

describe('Outbox.headOf', () => {
  it('gives an envelope that, with its payload appended as field 5, decodes as the event', () => {
    const outbox = new Outbox('messaging', new Subjects('parley_t1'));
    const { id, subject, head, typeUrl } = outbox.headOf(events.messageSent);
    const payload = toBinary(MessageSentSchema, create(MessageSentSchema, { messageId: 'm1', recipientUsers: 2 }));
    // What a statement appends: the envelope's field 5, an Any of the type URL and the payload.
    const any = new BinaryWriter().tag(1, WireType.LengthDelimited).string(typeUrl).tag(2, WireType.LengthDelimited).bytes(payload).finish();
    const tail = new BinaryWriter().tag(5, WireType.LengthDelimited).bytes(any).finish();
    const { envelope, payload: decoded } = decodeEvent(events.messageSent, Buffer.concat([head, tail]));
    expect(subject).toBe('parley_t1.messaging.message.sent');
    expect([envelope.id, envelope.producer, envelope.type]).toEqual([id, 'messaging', 'messaging.message.sent']);
    expect(decoded).toMatchObject({ messageId: 'm1', recipientUsers: 2 });
  });

  it('gives each event its own id', () => {
    const outbox = new Outbox('messaging', new Subjects('parley_t1'));
    expect(outbox.headOf(events.messageSent).id).not.toBe(outbox.headOf(events.messageSent).id);
  });
});
