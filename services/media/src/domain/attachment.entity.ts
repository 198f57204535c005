import { EntitySchema } from '@mikro-orm/core';

/** One uploaded (or uploading) ciphertext. Its bytes are in the blob store under the same id. */
export interface Attachment {
  /** Random, 128 bits, hex: unguessable, never derived from content. */
  id: string;
  ownerId: string;
  /** The declared length in bytes; counted against the quota from the start of the upload. */
  size: string;
  /** Lowercase hex SHA-256 the client declared, checked at completion. */
  sha256: string;
  contentType: string;
  createdAt: Date;
  /** Null while the upload is in progress. */
  completedAt: Date | null;
}

export const AttachmentSchema = new EntitySchema<Attachment>({
  name: 'Attachment',
  tableName: 'attachment',
  properties: {
    id: { type: 'text', primary: true },
    ownerId: { type: 'uuid', index: true },
    size: { type: 'bigint' },
    sha256: { type: 'text' },
    contentType: { type: 'text' },
    createdAt: { type: 'datetime' },
    completedAt: { type: 'datetime', nullable: true },
  },
});

/** The members of `conversationId` may download `attachmentId`. */
export interface AttachmentGrant {
  attachmentId: string;
  conversationId: string;
  createdAt: Date;
}

export const AttachmentGrantSchema = new EntitySchema<AttachmentGrant>({
  name: 'AttachmentGrant',
  tableName: 'attachment_grant',
  properties: {
    attachmentId: { type: 'text', primary: true },
    conversationId: { type: 'uuid', primary: true, index: true },
    createdAt: { type: 'datetime' },
  },
});
