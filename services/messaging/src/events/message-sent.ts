import { create, toBinary } from '@bufbuild/protobuf';
import { timestampFromDate } from '@bufbuild/protobuf/wkt';
import { events, type Outbox } from '@parley/platform';
import { MessageSentSchema } from '@parley/proto';
import type { SendRequest } from '../domain/message-sender.js';

/**
 * A send's messaging.message.sent, which send_messages records in outbox_event if it stores the
 * message: encoded here but for what only the statement knows (the conversation's kind, a direct
 * conversation's other user), which it appends before wrapping the payload in the envelope.
 */
export function messageSentEvent(outbox: Outbox, request: Pick<SendRequest, 'caller' | 'conversationId' | 'envelopes'>, messageId: string, sentAt: Date) {
  const { caller } = request;
  const body = toBinary(
    MessageSentSchema,
    create(MessageSentSchema, {
      messageId,
      senderUserId: caller.userId,
      senderDeviceId: caller.deviceId,
      conversationId: request.conversationId,
      recipientUsers: new Set(request.envelopes.filter((e) => e.userId !== caller.userId).map((e) => e.userId)).size,
      sentAt: timestampFromDate(sentAt),
    }),
  );
  return { ...outbox.headOf(events.messageSent), body };
}
