import { create } from '@bufbuild/protobuf';
import { timestampFromDate } from '@bufbuild/protobuf/wkt';
import { ConversationKind, ConversationSchema as ConversationMessage, MemberRole } from '@parley/proto';
import type { Conversation, ConversationMember } from '../domain/conversation.entity.js';

const kinds = { direct: ConversationKind.DIRECT, group: ConversationKind.GROUP } as const;
const roles = { member: MemberRole.MEMBER, admin: MemberRole.ADMIN, owner: MemberRole.OWNER } as const;

/** Domain objects as the public API shows them. */
export const toConversation = (c: Conversation, members: ConversationMember[]) =>
  create(ConversationMessage, {
    id: c.id,
    kind: kinds[c.kind],
    members: members.map((m) => ({ userId: m.userId, role: roles[m.role] })),
    createdAt: timestampFromDate(c.createdAt),
  });
