import { EntitySchema } from '@mikro-orm/core';

/** One side of a contact, kept from auth's contact.added and contact.removed: one row per side. */
export interface ContactProjection {
  userId: string;
  contactUserId: string;
}

export const ContactProjectionSchema = new EntitySchema<ContactProjection>({
  name: 'ContactProjection',
  tableName: 'contact_projection',
  properties: {
    userId: { type: 'uuid', primary: true },
    contactUserId: { type: 'uuid', primary: true, index: true },
  },
});
