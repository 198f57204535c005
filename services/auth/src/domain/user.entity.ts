import { EntitySchema } from '@mikro-orm/core';

export interface User {
  id: string;
  /** Lowercase, unique. */
  username: string;
  /** bcrypt over the SHA-256 of the NFKC-normalised password. */
  passwordHash: string;
  createdAt: Date;
  /** Shown to other users; the server sees it (profiles are not end-to-end encrypted). */
  displayName: string;
  /** A client-chosen media id, or ''. */
  avatarMediaId: string;
  /** Who may start conversations with this user. */
  messagingPolicy: MessagingPolicyName;
  /** Who may add this user to groups (besides messagingPolicy). */
  groupAddPolicy: GroupAddPolicyName;
}

export type MessagingPolicyName = 'everyone' | 'contacts_only';
export type GroupAddPolicyName = 'everyone' | 'contacts' | 'nobody';

export const UserSchema = new EntitySchema<User>({
  name: 'User',
  tableName: 'app_user',
  properties: {
    id: { type: 'uuid', primary: true },
    username: { type: 'text', unique: true },
    passwordHash: { type: 'text' },
    createdAt: { type: 'datetime' },
    displayName: { type: 'text', default: '' },
    avatarMediaId: { type: 'text', default: '' },
    messagingPolicy: { type: 'text', default: 'everyone' },
    groupAddPolicy: { type: 'text', default: 'everyone' },
  },
});
