import { EntitySchema } from '@mikro-orm/core';

/** A registration challenge Register accepted, kept until it expires so it can't be used twice. */
export interface SpentChallenge {
  /** The challenge's nonce, hex. */
  nonce: string;
  expiresAt: Date;
}

export const SpentChallengeSchema = new EntitySchema<SpentChallenge>({
  name: 'SpentChallenge',
  tableName: 'spent_challenge',
  properties: {
    nonce: { type: 'text', primary: true },
    expiresAt: { type: 'datetime', index: true },
  },
});
