import { EntitySchema } from '@mikro-orm/core';

/** A signing key auth has published in its JWKS: what lets a later start-up tell that one was removed. */
export interface PublishedSigningKey {
  kid: string;
  publishedAt: Date;
}

export const PublishedSigningKeySchema = new EntitySchema<PublishedSigningKey>({
  name: 'PublishedSigningKey',
  tableName: 'published_signing_key',
  properties: {
    kid: { type: 'text', primary: true },
    publishedAt: { type: 'datetime' },
  },
});
