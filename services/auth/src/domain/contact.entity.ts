import { EntitySchema } from '@mikro-orm/core';
import { UserSchema, type User } from './user.entity.js';

/** A pending request from one user to another to become contacts. */
export interface ContactRequest {
  from: User;
  to: User;
  createdAt: Date;
}

export const ContactRequestSchema = new EntitySchema<ContactRequest>({
  name: 'ContactRequest',
  tableName: 'contact_request',
  properties: {
    from: { kind: 'm:1', entity: () => UserSchema, primary: true, deleteRule: 'cascade' },
    to: { kind: 'm:1', entity: () => UserSchema, primary: true, deleteRule: 'cascade', index: true },
    createdAt: { type: 'datetime' },
  },
});

/** One side of a contact: each contact is stored twice, once per user, so each lists theirs. */
export interface Contact {
  user: User;
  contact: User;
  since: Date;
}

export const ContactSchema = new EntitySchema<Contact>({
  name: 'Contact',
  tableName: 'contact',
  properties: {
    user: { kind: 'm:1', entity: () => UserSchema, primary: true, deleteRule: 'cascade' },
    contact: { kind: 'm:1', entity: () => UserSchema, primary: true, deleteRule: 'cascade', index: true },
    since: { type: 'datetime' },
  },
});

/** blocker blocked blocked. */
export interface Block {
  blocker: User;
  blocked: User;
  createdAt: Date;
}

export const BlockSchema = new EntitySchema<Block>({
  name: 'Block',
  tableName: 'block',
  properties: {
    blocker: { kind: 'm:1', entity: () => UserSchema, primary: true, deleteRule: 'cascade' },
    blocked: { kind: 'm:1', entity: () => UserSchema, primary: true, deleteRule: 'cascade', index: true },
    createdAt: { type: 'datetime' },
  },
});
