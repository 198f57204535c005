import { EntitySchema } from '@mikro-orm/core';

/** One side of a contact, kept from auth.contact.added and auth.contact.removed: one row per side. */
export interface ContactProjection {
  userId: string;
  contactUserId: string;
  /** False once removed: the row stays so an older event arriving late can't undo a newer one. */
  active: boolean;
  /** When auth made the change this row reflects. */
  changedAt: Date;
}

export const ContactProjectionSchema = new EntitySchema<ContactProjection>({
  name: 'ContactProjection',
  tableName: 'contact_projection',
  properties: {
    userId: { type: 'uuid', primary: true },
    contactUserId: { type: 'uuid', primary: true, index: true },
    active: { type: 'boolean' },
    changedAt: { type: 'datetime' },
  },
});
