import { BigIntType, EntitySchema } from '@mikro-orm/core';

/** One of a user's encrypted key-value items (starred messages, drafts): opaque to the server. */
export interface StoredItem {
  userId: string;
  key: string;
  value: Buffer;
  version: number;
  updatedAt: Date;
}

export const StoredItemSchema = new EntitySchema<StoredItem>({
  name: 'StoredItem',
  tableName: 'stored_item',
  properties: {
    userId: { type: 'uuid', primary: true },
    key: { type: 'text', primary: true },
    value: { type: 'blob' },
    version: { type: new BigIntType('number') },
    updatedAt: { type: 'datetime' },
  },
});
