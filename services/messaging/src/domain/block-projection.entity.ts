import { EntitySchema } from '@mikro-orm/core';

/** Whether blockerId blocks blockedId, kept from auth.user.blocked and auth.user.unblocked. */
export interface BlockProjection {
  blockerId: string;
  blockedId: string;
  /** False once lifted: the row stays so an older event arriving late can't undo a newer one. */
  active: boolean;
  /** When auth made the change this row reflects. */
  changedAt: Date;
}

export const BlockProjectionSchema = new EntitySchema<BlockProjection>({
  name: 'BlockProjection',
  tableName: 'block_projection',
  properties: {
    blockerId: { type: 'uuid', primary: true },
    blockedId: { type: 'uuid', primary: true, index: true },
    active: { type: 'boolean' },
    changedAt: { type: 'datetime' },
  },
});
