import { ArrayType, BigIntType, EntitySchema } from '@mikro-orm/core';
import { ConversationSchema, type Conversation } from './conversation.entity.js';

/**
 * A sent message, without its ciphertext (that lives only in the recipients' queues): what
 * answers a retried send, a retraction and a delivery-status query. Kept until it expires, or
 * until every envelope was acked or dropped and the retract window has passed (ExpirySweeper).
 */
export interface Message {
  id: string;
  conversation: Conversation;
  seq: number;
  senderUserId: string;
  senderDeviceId: number;
  /** Unique per sender: a retried send finds the first one. */
  clientMessageId: string;
  sentAt: Date;
  expiresAt: Date;
  /** Every device an envelope was addressed to, as deviceKey(). */
  recipients: string[];
  /** Recipients whose envelope was dropped before they acked it (retraction, revocation, deletion). */
  dropped: string[];
  retractedAt: Date | null;
}

export const MessageSchema = new EntitySchema<Message>({
  name: 'Message',
  tableName: 'message',
  uniques: [{ properties: ['senderUserId', 'clientMessageId'] }, { properties: ['conversation', 'seq'] }],
  properties: {
    id: { type: 'uuid', primary: true },
    conversation: { kind: 'm:1', entity: () => ConversationSchema, deleteRule: 'cascade' },
    seq: { type: new BigIntType('number') },
    senderUserId: { type: 'uuid' },
    senderDeviceId: { type: 'smallint' },
    clientMessageId: { type: 'text' },
    sentAt: { type: 'datetime', index: true },
    expiresAt: { type: 'datetime', index: true },
    recipients: { type: ArrayType },
    dropped: { type: ArrayType, default: '{}' },
    retractedAt: { type: 'datetime', nullable: true },
  },
});

/** How a message row names one recipient device. */
export const deviceKey = (userId: string, deviceId: number) => `${userId}.${deviceId}`;
