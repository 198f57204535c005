import { EntitySchema } from '@mikro-orm/core';

/**
 * A user's "who may message me" and "who may add me to groups", kept from auth.privacy.changed.
 * No row means everyone may. It
 * is its own table, not a user_projection column, so it holds even if it arrives before the user.
 */
export interface MessagingPolicyProjection {
  userId: string;
  contactsOnly: boolean;
  /** Who may add the user to groups, besides contactsOnly: 'everyone', 'contacts' or 'nobody'. */
  groupAdds: string;
  /** When auth made the change this row reflects. */
  changedAt: Date;
}

export const MessagingPolicyProjectionSchema = new EntitySchema<MessagingPolicyProjection>({
  name: 'MessagingPolicyProjection',
  tableName: 'messaging_policy_projection',
  properties: {
    userId: { type: 'uuid', primary: true },
    contactsOnly: { type: 'boolean' },
    groupAdds: { type: 'text', default: 'everyone' },
    changedAt: { type: 'datetime' },
  },
});
