import { EntitySchema } from '@mikro-orm/core';

/** blockerId blocked blockedId: kept from auth's user.blocked and user.unblocked. */
export interface BlockProjection {
  blockerId: string;
  blockedId: string;
}

export const BlockProjectionSchema = new EntitySchema<BlockProjection>({
  name: 'BlockProjection',
  tableName: 'block_projection',
  properties: {
    blockerId: { type: 'uuid', primary: true },
    blockedId: { type: 'uuid', primary: true, index: true },
  },
});
