import { pageSize, requireUuid, rpcError, sqlRows, type Caller } from '@parley/platform';
import type { MessagingDeps } from '../deps.js';
import type { Conversation, ConversationKind, ConversationMember, MemberRole } from './conversation.entity.js';
import type { ConversationView } from './conversation-view.js';

/** Where a page ends: the last conversation's activity time (µs since the epoch, exact) and id. */
interface Cursor {
  t: string;
  id: string;
}

const encodeCursor = (c: Cursor) => Buffer.from(JSON.stringify(c)).toString('base64url');

function decodeCursor(token: string): Cursor {
  const malformed = () => rpcError.invalidArgument('page_token is not one this API returned');
  let parsed: unknown;
  try {
    parsed = JSON.parse(Buffer.from(token, 'base64url').toString('utf8'));
  } catch {
    throw malformed();
  }
  const { t, id } = (parsed ?? {}) as Partial<Cursor>;
  // A time this API wrote: microseconds since the epoch, well inside what a timestamp holds.
  if (typeof t !== 'string' || !/^\d{1,16}$/.test(t) || !Number.isSafeInteger(Number(t)) || typeof id !== 'string') throw malformed();
  try {
    return { t, id: requireUuid(id, 'page_token') };
  } catch {
    throw malformed();
  }
}

/** Rows as sqlRows returns them: bigint and timestamptz as text. */
interface PageRow {
  id: string;
  kind: ConversationKind;
  created_at: string;
  direct_pair_key: string | null;
  last_seq: string;
  last_activity_at: string;
  t_us: string;
  encrypted_info: Buffer | null;
  info_version: number;
}

interface MemberRow {
  conversation_id: string;
  user_id: string;
  role: MemberRole;
  joined_at: string;
  archived: boolean;
  muted_until: string | null;
}

/** The caller's conversations, most recently active first: one query for the page, one for its members. */
export async function listConversations(
  deps: MessagingDeps,
  caller: Caller,
  input: { pageSize: number; pageToken: string; includeArchived: boolean },
): Promise<{ conversations: ConversationView[]; nextPageToken: string }> {
  const size = pageSize(input.pageSize);
  const after = input.pageToken ? decodeCursor(input.pageToken) : undefined;
  const em = deps.orm.em.fork();
  const rows = await sqlRows<PageRow>(
    em,
    `select c.id, c.kind, c.created_at, c.direct_pair_key, c.last_seq, c.last_activity_at, c.encrypted_info, c.info_version,
            (extract(epoch from c.last_activity_at) * 1000000)::bigint::text as t_us
     from conversation_member m join conversation c on c.id = m.conversation_id
     where m.user_id = ? and (? or not m.archived)
       and (?::bigint is null or (c.last_activity_at, c.id) < (timestamptz 'epoch' + ?::bigint * interval '1 microsecond', ?::uuid))
     order by c.last_activity_at desc, c.id desc
     limit ?`,
    [caller.userId, input.includeArchived, after?.t ?? null, after?.t ?? null, after?.id ?? null, size + 1],
  );
  const page = rows.slice(0, size);
  const members = page.length
    ? await sqlRows<MemberRow>(
        em,
        `select conversation_id, user_id, role, joined_at, archived, muted_until from conversation_member
         where conversation_id = any(?::uuid[]) order by joined_at, user_id`,
        [page.map((r) => r.id)],
      )
    : [];
  const conversations = page.map((r): ConversationView => {
    const conversation: Conversation = {
      id: r.id,
      kind: r.kind,
      createdAt: new Date(r.created_at),
      directPairKey: r.direct_pair_key,
      lastSeq: Number(r.last_seq),
      lastActivityAt: new Date(r.last_activity_at),
      encryptedInfo: r.encrypted_info,
      infoVersion: r.info_version,
    };
    const own = members
      .filter((m) => m.conversation_id === r.id)
      .map(
        (m): ConversationMember => ({
          conversation,
          userId: m.user_id,
          role: m.role,
          joinedAt: new Date(m.joined_at),
          archived: m.archived,
          mutedUntil: m.muted_until === null ? null : new Date(m.muted_until),
        }),
      );
    return { conversation, members: own, callerId: caller.userId };
  });
  const last = rows.length > size ? page[page.length - 1] : undefined;
  return { conversations, nextPageToken: last ? encodeCursor({ t: last.t_us, id: last.id }) : '' };
}
