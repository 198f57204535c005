import { randomUUID } from 'node:crypto';
import { Code, ConnectError } from '@connectrpc/connect';
import { timestampDate, timestampFromDate } from '@bufbuild/protobuf/wkt';
import { MessagingPolicy, ConversationKind, MemberRole, type Conversation } from '@parley/proto';
import { connectErrorOf, eventually, type SignedInDevice } from '@parley/testing';
import { startGroupHarness, type GroupHarness } from './support/group-harness.js';

jest.setTimeout(120_000);

const GROUP_MAX_MEMBERS = 4;
let h: GroupHarness;

beforeAll(async () => {
  h = await startGroupHarness({ GROUP_MAX_MEMBERS: String(GROUP_MAX_MEMBERS) });
});

afterAll(async () => {
  await h?.stop();
});

const info = (s: string) => new TextEncoder().encode(s);
const roles = (c: Conversation | undefined) => Object.fromEntries((c?.members ?? []).map((m) => [m.userId, m.role]));

async function group(owner: SignedInDevice, ...members: SignedInDevice[]): Promise<Conversation> {
  return (await h.conversations.createGroup({ memberUserIds: members.map((m) => m.userId), encryptedInfo: info('title') }, owner.as)).conversation!;
}

/** A group with an owner, an admin and two plain members. */
async function staffedGroup() {
  const [owner, admin, member, other] = [await h.account(), await h.account(), await h.account(), await h.account()];
  const g = await group(owner, admin, member, other);
  await h.conversations.setMemberRole({ conversationId: g.id, userId: admin.userId, role: MemberRole.ADMIN }, owner.as);
  return { id: g.id, owner, admin, member, other };
}

async function codeOf(call: Promise<unknown>): Promise<'ok' | Code> {
  try {
    await call;
    return 'ok';
  } catch (err) {
    return ConnectError.from(err).code;
  }
}

describe('CreateGroup', () => {
  it('makes the caller owner and the others members, with the encrypted info', async () => {
    const [owner, a, b] = [await h.account(), await h.account(), await h.account()];
    const before = Date.now();
    const { conversation: c } = await h.conversations.createGroup({ memberUserIds: [a.userId, b.userId, a.userId.toUpperCase()], encryptedInfo: info('title') }, owner.as);
    expect(c?.kind).toBe(ConversationKind.GROUP);
    expect(roles(c)).toEqual({ [owner.userId]: MemberRole.OWNER, [a.userId]: MemberRole.MEMBER, [b.userId]: MemberRole.MEMBER });
    expect(c?.members).toHaveLength(3);
    expect(timestampDate(c!.members[0]!.joinedAt!).getTime()).toBeGreaterThanOrEqual(before - 1000);
    expect([new TextDecoder().decode(c?.encryptedInfo), c?.infoVersion, c?.lastSeq, c?.settings?.archived]).toEqual(['title', 0n, 0n, false]);
    const got = await h.conversations.getConversation({ conversationId: c!.id }, b.as);
    expect(got.conversation?.members.map((m) => m.userId)).toEqual(c?.members.map((m) => m.userId));
  });

  it('validates members: well-formed, known, not the caller, within the cap, and small info', async () => {
    const [owner, a] = [await h.account(), await h.account()];
    const self = await connectErrorOf(h.conversations.createGroup({ memberUserIds: [a.userId, owner.userId] }, owner.as));
    expect(self.code).toBe(Code.InvalidArgument);
    const malformed = await connectErrorOf(h.conversations.createGroup({ memberUserIds: ['bob'] }, owner.as));
    expect([malformed.code, malformed.rawMessage]).toEqual([Code.InvalidArgument, 'invalid request: member_user_ids[0]: must be a valid UUID [string.uuid]']);
    const unknown = randomUUID();
    const missing = await connectErrorOf(h.conversations.createGroup({ memberUserIds: [a.userId, unknown] }, owner.as));
    expect([missing.code, missing.rawMessage]).toEqual([Code.NotFound, `no user has id ${unknown}`]);
    const many = [a.userId, randomUUID(), randomUUID(), randomUUID()];
    const full = await connectErrorOf(h.conversations.createGroup({ memberUserIds: many }, owner.as));
    expect([full.code, full.rawMessage]).toEqual([Code.ResourceExhausted, `the group would have 5 members; a group is full at ${GROUP_MAX_MEMBERS}`]);
    const big = await connectErrorOf(h.conversations.createGroup({ memberUserIds: [a.userId], encryptedInfo: new Uint8Array(4097) }, owner.as));
    expect([big.code, big.rawMessage]).toEqual([Code.InvalidArgument, 'invalid request: encrypted_info: must be at most 4096 bytes [bytes.max_len]']);
    expect(await codeOf(h.conversations.createGroup({ memberUserIds: [a.userId], encryptedInfo: new Uint8Array(4096) }, owner.as))).toBe('ok');
    expect(await codeOf(h.conversations.createGroup({ memberUserIds: [] }, owner.as))).toBe('ok');
    expect((await connectErrorOf(h.conversations.createGroup({ memberUserIds: [a.userId] }))).code).toBe(Code.Unauthenticated);
  });

  it('refuses members who blocked the caller, were blocked by them, or accept contacts only', async () => {
    const [owner, blocker, blocked, picky, fine] = [await h.account(), await h.account(), await h.account(), await h.account(), await h.account()];
    await h.block(blocker, owner);
    await h.block(owner, blocked);
    await h.contacts.setPrivacy({ messagingPolicy: MessagingPolicy.CONTACTS_ONLY }, picky.as);
    await eventually(
      () => h.stack.query('messaging', 'select 1 from messaging_policy_projection where user_id = $1 and contacts_only', [picky.userId]),
      (rows) => rows.length === 1,
    );
    for (const refused of [blocker, blocked, picky]) {
      const err = await connectErrorOf(h.conversations.createGroup({ memberUserIds: [fine.userId, refused.userId] }, owner.as));
      expect([err.code, err.rawMessage]).toEqual([Code.PermissionDenied, `user ${refused.userId} does not accept messages from you`]);
    }
    expect(await h.stack.query('messaging', `select 1 from conversation_member where user_id = $1`, [fine.userId])).toHaveLength(0);

    // A contact of the picky user gets through; the policy binds who may add picky, not whom picky adds.
    const friend = await h.account();
    await h.contacts.sendContactRequest({ userId: picky.userId }, friend.as);
    await h.contacts.acceptContactRequest({ userId: friend.userId }, picky.as);
    await eventually(
      () => h.stack.query('messaging', 'select 1 from contact_projection where user_id = $1 and contact_user_id = $2 and active', [picky.userId, friend.userId]),
      (rows) => rows.length === 1,
    );
    expect(await codeOf(h.conversations.createGroup({ memberUserIds: [picky.userId, fine.userId] }, friend.as))).toBe('ok');
    expect(await codeOf(h.conversations.createGroup({ memberUserIds: [fine.userId] }, picky.as))).toBe('ok');
  });
});

describe('GetConversation', () => {
  it('shows a conversation to its members only', async () => {
    const [owner, a, stranger] = [await h.account(), await h.account(), await h.account()];
    const g = await group(owner, a);
    expect((await h.conversations.getConversation({ conversationId: g.id }, a.as)).conversation?.id).toBe(g.id);
    const hidden = await connectErrorOf(h.conversations.getConversation({ conversationId: g.id }, stranger.as));
    expect([hidden.code, hidden.rawMessage]).toEqual([Code.NotFound, `you are not a member of a conversation with id ${g.id}`]);
    expect((await connectErrorOf(h.conversations.getConversation({ conversationId: randomUUID() }, a.as))).code).toBe(Code.NotFound);
    expect((await connectErrorOf(h.conversations.getConversation({ conversationId: 'x' }, a.as))).code).toBe(Code.InvalidArgument);
  });
});

describe('AddMembers', () => {
  it('is for the owner and admins; plain members are refused and strangers see nothing', async () => {
    const g = await staffedGroup();
    await h.conversations.removeMember({ conversationId: g.id, userId: g.other.userId }, g.owner.as);
    const [x, y] = [await h.account(), await h.account()];
    expect(await codeOf(h.conversations.addMembers({ conversationId: g.id, userIds: [x.userId] }, g.member.as))).toBe(Code.PermissionDenied);
    expect(await codeOf(h.conversations.addMembers({ conversationId: g.id, userIds: [x.userId] }, y.as))).toBe(Code.NotFound);
    const byAdmin = await h.conversations.addMembers({ conversationId: g.id, userIds: [x.userId] }, g.admin.as);
    expect(roles(byAdmin.conversation)[x.userId]).toBe(MemberRole.MEMBER);
    await h.conversations.removeMember({ conversationId: g.id, userId: x.userId }, g.owner.as);
    expect(roles((await h.conversations.addMembers({ conversationId: g.id, userIds: [y.userId] }, g.owner.as)).conversation)[y.userId]).toBe(MemberRole.MEMBER);
  });

  it('ignores users who are already members, but still checks every id', async () => {
    const [owner, a] = [await h.account(), await h.account()];
    const g = await group(owner, a);
    await h.conversations.setMemberRole({ conversationId: g.id, userId: a.userId, role: MemberRole.ADMIN }, owner.as);
    const again = await h.conversations.addMembers({ conversationId: g.id, userIds: [a.userId, owner.userId] }, owner.as);
    expect(roles(again.conversation)).toEqual({ [owner.userId]: MemberRole.OWNER, [a.userId]: MemberRole.ADMIN });
    const unknown = randomUUID();
    const err = await connectErrorOf(h.conversations.addMembers({ conversationId: g.id, userIds: [a.userId, unknown] }, owner.as));
    expect([err.code, err.rawMessage]).toEqual([Code.NotFound, `no user has id ${unknown}`]);
    expect((await connectErrorOf(h.conversations.addMembers({ conversationId: g.id, userIds: [] }, owner.as))).code).toBe(Code.InvalidArgument);
  });

  it('holds the group to the cap and each new member to their block and privacy settings', async () => {
    const [owner, a, b, c, d] = [await h.account(), await h.account(), await h.account(), await h.account(), await h.account()];
    const g = await group(owner, a);
    await h.block(b, owner);
    const blocked = await connectErrorOf(h.conversations.addMembers({ conversationId: g.id, userIds: [b.userId] }, owner.as));
    expect([blocked.code, blocked.rawMessage]).toEqual([Code.PermissionDenied, `user ${b.userId} does not accept messages from you`]);
    await h.conversations.addMembers({ conversationId: g.id, userIds: [c.userId, d.userId] }, owner.as);
    const full = await connectErrorOf(h.conversations.addMembers({ conversationId: g.id, userIds: [(await h.account()).userId] }, owner.as));
    expect([full.code, full.rawMessage]).toEqual([Code.ResourceExhausted, `the group would have 5 members; a group is full at ${GROUP_MAX_MEMBERS}`]);
  });

  it('lets no racing adds take the group past the cap', async () => {
    const owner = await h.account();
    const g = await group(owner, await h.account());
    const candidates = [await h.account(), await h.account(), await h.account(), await h.account()];
    const outcomes = await Promise.all(candidates.map((c) => codeOf(h.conversations.addMembers({ conversationId: g.id, userIds: [c.userId] }, owner.as))));
    expect(outcomes.filter((o) => o === 'ok')).toHaveLength(GROUP_MAX_MEMBERS - 2);
    expect(await h.stack.query('messaging', 'select 1 from conversation_member where conversation_id = $1', [g.id])).toHaveLength(GROUP_MAX_MEMBERS);
  });

  it('does not apply to direct conversations', async () => {
    const [a, b, c] = [await h.account(), await h.account(), await h.account()];
    const direct = (await h.conversations.openDirectConversation({ userId: b.userId }, a.as)).conversation!;
    const err = await connectErrorOf(h.conversations.addMembers({ conversationId: direct.id, userIds: [c.userId] }, a.as));
    expect([err.code, err.rawMessage]).toEqual([Code.FailedPrecondition, 'direct conversations have fixed members']);
    const calls = [
      () => h.conversations.removeMember({ conversationId: direct.id, userId: b.userId }, a.as),
      () => h.conversations.leaveGroup({ conversationId: direct.id }, a.as),
      () => h.conversations.setMemberRole({ conversationId: direct.id, userId: b.userId, role: MemberRole.ADMIN }, a.as),
      () => h.conversations.transferOwnership({ conversationId: direct.id, newOwnerUserId: b.userId }, a.as),
      () => h.conversations.updateGroupInfo({ conversationId: direct.id, encryptedInfo: info('x') }, a.as),
    ];
    for (const call of calls) expect(await codeOf(call())).toBe(Code.FailedPrecondition);
  });
});

describe('RemoveMember', () => {
  it('lets the owner remove anyone else and an admin only plain members', async () => {
    const matrix: Array<[string, 'owner' | 'admin' | 'member', 'admin' | 'member' | 'owner', 'ok' | Code]> = [
      ['owner removes an admin', 'owner', 'admin', 'ok'],
      ['owner removes a member', 'owner', 'member', 'ok'],
      ['admin removes a member', 'admin', 'member', 'ok'],
      ['admin removes the owner', 'admin', 'owner', Code.PermissionDenied],
      ['member removes a member', 'member', 'member', Code.PermissionDenied],
      ['member removes the admin', 'member', 'admin', Code.PermissionDenied],
    ];
    for (const [label, by, target, expected] of matrix) {
      const g = await staffedGroup();
      const targetUser = target === 'member' && by === 'member' ? g.other : g[target];
      const outcome = await codeOf(h.conversations.removeMember({ conversationId: g.id, userId: targetUser.userId }, g[by].as));
      expect([label, outcome]).toEqual([label, expected]);
      const left = await h.stack.query('messaging', 'select 1 from conversation_member where conversation_id = $1 and user_id = $2', [g.id, targetUser.userId]);
      expect([label, left.length]).toEqual([label, expected === 'ok' ? 0 : 1]);
    }
    const g = await staffedGroup();
    const secondAdmin = g.other;
    await h.conversations.setMemberRole({ conversationId: g.id, userId: secondAdmin.userId, role: MemberRole.ADMIN }, g.owner.as);
    const err = await connectErrorOf(h.conversations.removeMember({ conversationId: g.id, userId: secondAdmin.userId }, g.admin.as));
    expect([err.code, err.rawMessage]).toEqual([Code.PermissionDenied, 'an admin may remove only plain members']);
  });

  it('removes the member from the conversation they can no longer see', async () => {
    const g = await staffedGroup();
    const res = await h.conversations.removeMember({ conversationId: g.id, userId: g.member.userId }, g.owner.as);
    expect(res.conversation?.members.map((m) => m.userId)).not.toContain(g.member.userId);
    expect((await connectErrorOf(h.conversations.getConversation({ conversationId: g.id }, g.member.as))).code).toBe(Code.NotFound);
    expect((await connectErrorOf(h.conversations.removeMember({ conversationId: g.id, userId: g.member.userId }, g.owner.as))).code).toBe(Code.NotFound);
    expect((await connectErrorOf(h.conversations.removeMember({ conversationId: g.id, userId: g.owner.userId }, g.owner.as))).code).toBe(Code.InvalidArgument);
    expect((await connectErrorOf(h.conversations.removeMember({ conversationId: g.id, userId: g.admin.userId }, g.member.as))).code).toBe(Code.NotFound);
  });
});

describe('LeaveGroup', () => {
  it('lets members leave, holds the owner back until they transfer, and deletes a group its last member leaves', async () => {
    const g = await staffedGroup();
    await h.conversations.leaveGroup({ conversationId: g.id }, g.member.as);
    expect((await connectErrorOf(h.conversations.getConversation({ conversationId: g.id }, g.member.as))).code).toBe(Code.NotFound);
    const owner = await connectErrorOf(h.conversations.leaveGroup({ conversationId: g.id }, g.owner.as));
    expect([owner.code, owner.rawMessage]).toEqual([Code.FailedPrecondition, 'the owner must transfer ownership before leaving']);
    await h.conversations.leaveGroup({ conversationId: g.id }, g.admin.as);
    await h.conversations.leaveGroup({ conversationId: g.id }, g.other.as);
    expect(await h.stack.query('messaging', 'select 1 from conversation where id = $1', [g.id])).toHaveLength(1);
    await h.conversations.leaveGroup({ conversationId: g.id }, g.owner.as);
    expect(await h.stack.query('messaging', 'select 1 from conversation where id = $1', [g.id])).toHaveLength(0);
  });
});

describe('SetMemberRole and TransferOwnership', () => {
  it('lets only the owner change roles, to ADMIN or MEMBER', async () => {
    const g = await staffedGroup();
    expect(roles((await h.conversations.setMemberRole({ conversationId: g.id, userId: g.member.userId, role: MemberRole.ADMIN }, g.owner.as)).conversation)[g.member.userId]).toBe(MemberRole.ADMIN);
    expect(roles((await h.conversations.setMemberRole({ conversationId: g.id, userId: g.member.userId, role: MemberRole.MEMBER }, g.owner.as)).conversation)[g.member.userId]).toBe(MemberRole.MEMBER);
    const toOwner = await connectErrorOf(h.conversations.setMemberRole({ conversationId: g.id, userId: g.member.userId, role: MemberRole.OWNER }, g.owner.as));
    expect([toOwner.code, toOwner.rawMessage]).toEqual([Code.InvalidArgument, 'invalid request: role: must be MEMBER_ROLE_ADMIN or MEMBER_ROLE_MEMBER; ownership moves with TransferOwnership [role.admin_or_member]']);
    expect(await codeOf(h.conversations.setMemberRole({ conversationId: g.id, userId: g.member.userId, role: MemberRole.UNSPECIFIED }, g.owner.as))).toBe(Code.InvalidArgument);
    expect(await codeOf(h.conversations.setMemberRole({ conversationId: g.id, userId: g.member.userId, role: MemberRole.ADMIN }, g.admin.as))).toBe(Code.PermissionDenied);
    expect(await codeOf(h.conversations.setMemberRole({ conversationId: g.id, userId: g.other.userId, role: MemberRole.ADMIN }, g.member.as))).toBe(Code.PermissionDenied);
    expect(await codeOf(h.conversations.setMemberRole({ conversationId: g.id, userId: randomUUID(), role: MemberRole.ADMIN }, g.owner.as))).toBe(Code.NotFound);
  });

  it('hands ownership to a member and keeps the old owner as an admin', async () => {
    const g = await staffedGroup();
    expect(await codeOf(h.conversations.transferOwnership({ conversationId: g.id, newOwnerUserId: g.member.userId }, g.admin.as))).toBe(Code.PermissionDenied);
    expect(await codeOf(h.conversations.transferOwnership({ conversationId: g.id, newOwnerUserId: g.owner.userId }, g.owner.as))).toBe(Code.InvalidArgument);
    expect(await codeOf(h.conversations.transferOwnership({ conversationId: g.id, newOwnerUserId: (await h.account()).userId }, g.owner.as))).toBe(Code.NotFound);
    const res = await h.conversations.transferOwnership({ conversationId: g.id, newOwnerUserId: g.member.userId }, g.owner.as);
    expect(roles(res.conversation)).toEqual({
      [g.owner.userId]: MemberRole.ADMIN,
      [g.admin.userId]: MemberRole.ADMIN,
      [g.member.userId]: MemberRole.OWNER,
      [g.other.userId]: MemberRole.MEMBER,
    });
    // The old owner may now leave; the new one may not.
    await h.conversations.leaveGroup({ conversationId: g.id }, g.owner.as);
    expect(await codeOf(h.conversations.leaveGroup({ conversationId: g.id }, g.member.as))).toBe(Code.FailedPrecondition);
  });
});

describe('UpdateGroupInfo', () => {
  it('lets the owner and admins replace the info, versioned, and refuses a stale expected version', async () => {
    const g = await staffedGroup();
    const first = await h.conversations.updateGroupInfo({ conversationId: g.id, encryptedInfo: info('v1') }, g.admin.as);
    expect(first.conversation?.infoVersion).toBe(1n);
    const second = await h.conversations.updateGroupInfo({ conversationId: g.id, encryptedInfo: info('v2'), expectedInfoVersion: 1n }, g.owner.as);
    expect([new TextDecoder().decode(second.conversation?.encryptedInfo), second.conversation?.infoVersion]).toEqual(['v2', 2n]);
    const stale = await connectErrorOf(h.conversations.updateGroupInfo({ conversationId: g.id, encryptedInfo: info('v3'), expectedInfoVersion: 1n }, g.owner.as));
    expect([stale.code, stale.rawMessage]).toEqual([Code.FailedPrecondition, 'the group info is at version 2, not 1: read it again']);
    expect(await codeOf(h.conversations.updateGroupInfo({ conversationId: g.id, encryptedInfo: info('x') }, g.member.as))).toBe(Code.PermissionDenied);
    expect(await codeOf(h.conversations.updateGroupInfo({ conversationId: g.id, encryptedInfo: new Uint8Array(4097) }, g.owner.as))).toBe(Code.InvalidArgument);
    const seen = await h.conversations.getConversation({ conversationId: g.id }, g.member.as);
    expect([new TextDecoder().decode(seen.conversation?.encryptedInfo), seen.conversation?.infoVersion]).toEqual(['v2', 2n]);
  });
});

describe('UpdateMemberSettings', () => {
  it("sets only the caller's own settings, in groups and direct conversations", async () => {
    const [a, b] = [await h.account(), await h.account()];
    const direct = (await h.conversations.openDirectConversation({ userId: b.userId }, a.as)).conversation!;
    const until = new Date(Date.now() + 3_600_000);
    const res = await h.conversations.updateMemberSettings({ conversationId: direct.id, archived: true, mutedUntil: timestampFromDate(until) }, a.as);
    expect(res.conversation?.settings?.archived).toBe(true);
    expect(timestampDate(res.conversation!.settings!.mutedUntil!).getTime()).toBe(until.getTime());
    const other = (await h.conversations.getConversation({ conversationId: direct.id }, b.as)).conversation?.settings;
    expect([other?.archived, other?.mutedUntil]).toEqual([false, undefined]);
    const past = await h.conversations.updateMemberSettings({ conversationId: direct.id, archived: false, mutedUntil: timestampFromDate(new Date(Date.now() - 1000)) }, a.as);
    expect([past.conversation?.settings?.archived, past.conversation?.settings?.mutedUntil]).toEqual([false, undefined]);
    const g = await group(a, b);
    expect((await h.conversations.updateMemberSettings({ conversationId: g.id, archived: true }, b.as)).conversation?.settings?.archived).toBe(true);
    expect((await connectErrorOf(h.conversations.updateMemberSettings({ conversationId: g.id, archived: true }, (await h.account()).as))).code).toBe(Code.NotFound);
  });
});

describe('ListConversations', () => {
  it('pages through the caller’s conversations, most recently active first, without skipping or repeating', async () => {
    const me = await h.account();
    const peers = [await h.account(), await h.account(), await h.account(), await h.account()];
    const ids: string[] = [];
    for (const p of peers) ids.push((await h.conversations.openDirectConversation({ userId: p.userId }, me.as)).conversation!.id);
    ids.push((await group(me, peers[0]!)).id);
    ids.push((await group(peers[1]!, me)).id);
    // Activity times that differ only in microseconds, and two that tie, so the cursor must carry both.
    const times = ['2026-01-01 00:00:00.000001+00', '2026-01-01 00:00:00.000002+00', '2026-01-01 00:00:00.000002+00', '2026-01-02 00:00:00+00', '2026-01-03 00:00:00+00', '2026-01-04 00:00:00.5+00'];
    for (const [i, id] of ids.entries()) await h.stack.query('messaging', 'update conversation set last_activity_at = $2 where id = $1', [id, times[i]]);
    const tied = [ids[1]!, ids[2]!].sort().reverse();
    const expected = [ids[5], ids[4], ids[3], ...tied, ids[0]];

    const pages: string[][] = [];
    let pageToken = '';
    do {
      const page = await h.conversations.listConversations({ pageSize: 4, pageToken }, me.as);
      pages.push(page.conversations.map((c) => c.id));
      pageToken = page.nextPageToken;
    } while (pageToken);
    expect(pages).toEqual([expected.slice(0, 4), expected.slice(4)]);
    const byTwo: string[] = [];
    pageToken = '';
    do {
      const page = await h.conversations.listConversations({ pageSize: 2, pageToken }, me.as);
      byTwo.push(...page.conversations.map((c) => c.id));
      pageToken = page.nextPageToken;
    } while (pageToken);
    expect(byTwo).toEqual(expected);

    const all = await h.conversations.listConversations({}, me.as);
    expect(all.conversations.map((c) => c.id)).toEqual(expected);
    expect(all.nextPageToken).toBe('');
    const g = all.conversations.find((c) => c.id === ids[4])!;
    expect([g.kind, g.members.length, roles(g)[me.userId]]).toEqual([ConversationKind.GROUP, 2, MemberRole.OWNER]);
    expect(timestampDate(g.lastActivityAt!).toISOString()).toBe('2026-01-03T00:00:00.000Z');
  });

  it('leaves archived conversations out unless asked, and checks its arguments', async () => {
    const me = await h.account();
    const [a, b] = [await h.account(), await h.account()];
    const kept = (await h.conversations.openDirectConversation({ userId: a.userId }, me.as)).conversation!;
    const archived = (await h.conversations.openDirectConversation({ userId: b.userId }, me.as)).conversation!;
    await h.conversations.updateMemberSettings({ conversationId: archived.id, archived: true }, me.as);
    expect((await h.conversations.listConversations({}, me.as)).conversations.map((c) => c.id)).toEqual([kept.id]);
    const withArchived = await h.conversations.listConversations({ includeArchived: true }, me.as);
    expect(withArchived.conversations.map((c) => c.id).sort()).toEqual([kept.id, archived.id].sort());
    expect(withArchived.conversations.find((c) => c.id === archived.id)?.settings?.archived).toBe(true);
    // b did not archive it.
    expect((await h.conversations.listConversations({}, b.as)).conversations.map((c) => c.id)).toEqual([archived.id]);

    expect((await connectErrorOf(h.conversations.listConversations({ pageSize: 101 }, me.as))).code).toBe(Code.InvalidArgument);
    for (const pageToken of ['garbage', Buffer.from('{"t":"1","id":"x"}').toString('base64url'), Buffer.from('[]').toString('base64url')]) {
      const err = await connectErrorOf(h.conversations.listConversations({ pageToken }, me.as));
      expect([pageToken, err.code, err.rawMessage]).toEqual([pageToken, Code.InvalidArgument, 'page_token is not one this API returned']);
    }
    expect((await connectErrorOf(h.conversations.listConversations({}))).code).toBe(Code.Unauthenticated);
  });
});
