import { BigIntType, EntitySchema } from '@mikro-orm/core';
import { MessageSchema, type Message } from './message.entity.js';

/**
 * One item of a device's queue: an envelope or a server notice, kept until the device acks it or
 * it expires. The id is what the device acks; queueSeq (the device's DeviceProjection.queueSeq
 * when it was queued) orders the queue.
 */
export interface QueuedDelivery {
  id: number;
  queueSeq: number;
  recipientUserId: string;
  recipientDeviceId: number;
  /** The message an envelope belongs to; null for a notice. */
  message: Message | null;
  /** The Delivery (an Envelope or a ServerNotice) serialized without its id, which is this row's. */
  body: Buffer;
  createdAt: Date;
  expiresAt: Date;
}

export const QueuedDeliverySchema = new EntitySchema<QueuedDelivery>({
  name: 'QueuedDelivery',
  tableName: 'queued_delivery',
  indexes: [{ properties: ['recipientUserId', 'recipientDeviceId', 'queueSeq'] }],
  properties: {
    id: { type: new BigIntType('number'), primary: true, autoincrement: true },
    recipientUserId: { type: 'uuid' },
    recipientDeviceId: { type: 'smallint' },
    queueSeq: { type: new BigIntType('number') },
    message: { kind: 'm:1', entity: () => MessageSchema, nullable: true, deleteRule: 'cascade', index: true },
    body: { type: 'blob' },
    createdAt: { type: 'datetime' },
    expiresAt: { type: 'datetime', index: true },
  },
});
