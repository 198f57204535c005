import { create } from '@bufbuild/protobuf';
import { timestampFromDate } from '@bufbuild/protobuf/wkt';
import { ConversationKind, ConversationSchema as ConversationMessage, MemberRole, SendMessageResponseSchema, StoredItemSchema as StoredItemMessage } from '@parley/proto';
import type { ConversationView } from '../domain/conversation-view.js';
import type { SentMessage } from '../domain/message-sender.js';
import type { StoredItem } from '../domain/stored-item.entity.js';

const kinds = { direct: ConversationKind.DIRECT, group: ConversationKind.GROUP } as const;
const roles = { member: MemberRole.MEMBER, admin: MemberRole.ADMIN, owner: MemberRole.OWNER } as const;

/** Domain objects as the public API shows them. */
export const toConversation = ({ conversation: c, members, callerId }: ConversationView) => {
  const own = members.find((m) => m.userId === callerId);
  return create(ConversationMessage, {
    id: c.id,
    kind: kinds[c.kind],
    members: members.map((m) => ({ userId: m.userId, role: roles[m.role], joinedAt: timestampFromDate(m.joinedAt) })),
    createdAt: timestampFromDate(c.createdAt),
    encryptedInfo: c.encryptedInfo ?? new Uint8Array(),
    infoVersion: BigInt(c.infoVersion),
    lastSeq: BigInt(c.lastSeq),
    lastActivityAt: timestampFromDate(c.lastActivityAt),
    settings: {
      archived: own?.archived ?? false,
      mutedUntil: own?.mutedUntil && own.mutedUntil.getTime() > Date.now() ? timestampFromDate(own.mutedUntil) : undefined,
    },
  });
};

export const toStoredItem = (item: StoredItem) =>
  create(StoredItemMessage, { key: item.key, value: item.value, version: BigInt(item.version), updatedAt: timestampFromDate(item.updatedAt) });

export const toSendMessageResponse = (sent: SentMessage) =>
  create(SendMessageResponseSchema, { messageId: sent.messageId, seq: BigInt(sent.seq), sentAt: timestampFromDate(sent.sentAt), duplicate: sent.duplicate });
