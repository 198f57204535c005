import { BigIntType, EntitySchema } from '@mikro-orm/core';

export type ConversationKind = 'direct' | 'group';
export type MemberRole = 'member' | 'admin' | 'owner';

export interface Conversation {
  id: string;
  kind: ConversationKind;
  createdAt: Date;
  /**
   * For a direct conversation, its two user ids in order ("<lower>:<higher>"); unique, so a pair
   * never gets a second one however many opens race. Null for groups.
   */
  directPairKey: string | null;
  /** The seq of the last message: sends lock this row to take the next, so seqs have no gaps. */
  lastSeq: number;
  lastActivityAt: Date;
  /** A group's title and avatar, encrypted by its members; never read here. */
  encryptedInfo: Buffer | null;
  infoVersion: number;
}

export interface ConversationMember {
  conversation: Conversation;
  userId: string;
  role: MemberRole;
  joinedAt: Date;
  archived: boolean;
  mutedUntil: Date | null;
}

export const ConversationSchema = new EntitySchema<Conversation>({
  name: 'Conversation',
  tableName: 'conversation',
  properties: {
    id: { type: 'uuid', primary: true },
    kind: { type: 'text' },
    createdAt: { type: 'datetime' },
    directPairKey: { type: 'text', nullable: true, unique: true },
    lastSeq: { type: new BigIntType('number'), default: 0 },
    lastActivityAt: { type: 'datetime', defaultRaw: 'now()' },
    encryptedInfo: { type: 'blob', nullable: true },
    infoVersion: { type: 'integer', default: 0 },
  },
});

export const ConversationMemberSchema = new EntitySchema<ConversationMember>({
  name: 'ConversationMember',
  tableName: 'conversation_member',
  properties: {
    conversation: { kind: 'm:1', entity: () => ConversationSchema, primary: true, deleteRule: 'cascade' },
    userId: { type: 'uuid', primary: true, index: true },
    role: { type: 'text' },
    joinedAt: { type: 'datetime' },
    archived: { type: 'boolean', default: false },
    mutedUntil: { type: 'datetime', nullable: true },
  },
});

/** The key of the direct conversation between two users, the same from either side. */
export const directPairKey = (a: string, b: string) => (a < b ? `${a}:${b}` : `${b}:${a}`);
