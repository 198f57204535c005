import { randomUUID } from 'node:crypto';
import type { DescMessage, MessageShape } from '@bufbuild/protobuf';
import { Code, type Client } from '@connectrpc/connect';
import { jetstream, jetstreamManager } from '@nats-io/jetstream';
import { connect, type NatsConnection } from '@nats-io/transport-node';
import { decodeEvent, events, type EventType } from '@parley/platform';
import { AuthService, ContactService, DeviceService, MessagingPolicy } from '@parley/proto';
import { Accounts, connectErrorOf, eventually, serviceClient, startTestStack, type SignedInDevice, type TestStack } from '@parley/testing';

const SEARCHES_PER_MINUTE = 5;

let stack: TestStack;
let nc: NatsConnection;
let auth: Client<typeof AuthService>;
let contacts: Client<typeof ContactService>;
let accounts: Accounts;

function account(username?: string): Promise<SignedInDevice> {
  return accounts.register({ username, registrationId: 1234 });
}

async function contactsOf(a: SignedInDevice) {
  return (await contacts.listContacts({}, a.as)).contacts.map((c) => c.user!.id);
}

/** Every event of `type` on the run's stream so far. */
async function published<D extends DescMessage>(type: EventType<D>): Promise<MessageShape<D>[]> {
  const { stream } = stack.isolation.subjects;
  const subject = stack.isolation.subjects.of(type);
  const info = await (await jetstreamManager(nc)).streams.info(stream, { subjects_filter: subject });
  const count = info.state.subjects?.[subject] ?? 0;
  const out: MessageShape<D>[] = [];
  if (count === 0) return out;
  const consumer = await jetstream(nc).consumers.get(stream, { filter_subjects: subject });
  for await (const msg of await consumer.fetch({ max_messages: count, expires: 5000 })) out.push(decodeEvent(type, msg.data).payload);
  return out;
}

/** Waits until the outbox has published everything committed so far. */
async function outboxDrained() {
  await eventually(
    () => stack.query('auth', 'select id from outbox_event'),
    (rows) => rows.length === 0,
  );
}

beforeAll(async () => {
  stack = await startTestStack({
    services: ['auth'],
    env: { auth: { BCRYPT_COST: '4', SEARCH_REQUESTS_PER_MINUTE: String(SEARCHES_PER_MINUTE) } },
  });
  nc = await connect({ servers: stack.natsUrl });
  auth = serviceClient(AuthService, stack, 'auth');
  contacts = serviceClient(ContactService, stack, 'auth');
  accounts = new Accounts({ auth, devices: serviceClient(DeviceService, stack, 'auth') });
});

afterAll(async () => {
  await nc?.close();
  await stack?.cleanup();
});

describe('authentication', () => {
  it('refuses every call without a token', async () => {
    const calls = [
      contacts.sendContactRequest({ userId: randomUUID() }),
      contacts.listContacts({}),
      contacts.blockUser({ userId: randomUUID() }),
      contacts.getPrivacy({}),
      contacts.searchUsers({ query: 'abc' }),
    ];
    for (const call of calls) expect((await connectErrorOf(call)).code).toBe(Code.Unauthenticated);
  });

  it('refuses a token whose session has ended', async () => {
    const a = await account();
    const b = await account();
    await auth.logout({}, a.as);
    const err = await connectErrorOf(contacts.sendContactRequest({ userId: b.userId }, a.as));
    expect([err.code, err.rawMessage]).toEqual([Code.Unauthenticated, 'session has ended: log in again']);
    expect(await stack.query('auth', 'select 1 from contact_request where from_id = $1', [a.userId])).toHaveLength(0);
  });
});

describe('contact requests', () => {
  it('validates the user id', async () => {
    const a = await account();
    const self = await connectErrorOf(contacts.sendContactRequest({ userId: a.userId }, a.as));
    expect([self.code, self.rawMessage]).toEqual([Code.InvalidArgument, "you can't send a contact request to yourself"]);
    const malformed = await connectErrorOf(contacts.sendContactRequest({ userId: 'not-a-uuid' }, a.as));
    expect([malformed.code, malformed.rawMessage]).toEqual([Code.InvalidArgument, 'invalid request: user_id: must be a valid UUID [string.uuid]']);
    expect((await connectErrorOf(contacts.acceptContactRequest({ userId: '' }, a.as))).code).toBe(Code.InvalidArgument);
    const unknown = randomUUID();
    const missing = await connectErrorOf(contacts.sendContactRequest({ userId: unknown }, a.as));
    expect([missing.code, missing.rawMessage]).toEqual([Code.NotFound, `no user has id ${unknown}`]);
  });

  it('sends, lists on both sides, refuses a duplicate, and accepting makes contacts with auth.contact.added', async () => {
    const a = await account();
    const b = await account();
    // UpdateProfile is not served yet; the lists must still carry whatever display name is stored.
    await stack.query('auth', "update app_user set display_name = 'Bee' where id = $1", [b.userId]);
    expect(await contacts.sendContactRequest({ userId: b.userId }, a.as)).toMatchObject({ becameContacts: false });
    const again = await connectErrorOf(contacts.sendContactRequest({ userId: b.userId }, a.as));
    expect([again.code, again.rawMessage]).toEqual([Code.AlreadyExists, 'you already sent this user a contact request']);

    const forA = await contacts.listContactRequests({}, a.as);
    expect(forA.incoming).toHaveLength(0);
    expect(forA.outgoing.map((r) => [r.from?.id, r.to?.id, r.to?.username, r.to?.displayName])).toEqual([[a.userId, b.userId, b.username, 'Bee']]);
    const forB = await contacts.listContactRequests({}, b.as);
    expect(forB.incoming.map((r) => r.from?.id)).toEqual([a.userId]);

    const accepted = await contacts.acceptContactRequest({ userId: a.userId }, b.as);
    expect(accepted.contact?.user?.id).toBe(a.userId);
    expect(accepted.contact?.user?.username).toBe(a.username);
    expect((await contacts.listContacts({}, a.as)).contacts.map((c) => [c.user?.id, c.user?.displayName])).toEqual([[b.userId, 'Bee']]);
    expect(await contactsOf(b)).toEqual([a.userId]);
    expect((await contacts.listContactRequests({}, b.as)).incoming).toHaveLength(0);

    const already = await connectErrorOf(contacts.sendContactRequest({ userId: a.userId }, b.as));
    expect([already.code, already.rawMessage]).toEqual([Code.AlreadyExists, 'this user is already one of your contacts']);
    await eventually(
      () => published(events.contactAdded),
      (added) => added.some((e) => e.userId === b.userId && e.contactUserId === a.userId),
    );
  });

  it('makes contacts at once when the other user had already asked', async () => {
    const a = await account();
    const b = await account();
    await contacts.sendContactRequest({ userId: a.userId }, b.as);
    expect(await contacts.sendContactRequest({ userId: b.userId }, a.as)).toMatchObject({ becameContacts: true });
    expect(await contactsOf(a)).toEqual([b.userId]);
    expect(await stack.query('auth', 'select 1 from contact_request where from_id in ($1, $2)', [a.userId, b.userId])).toHaveLength(0);
  });

  it('makes one contact when both ask each other at the same moment', async () => {
    const a = await account();
    const b = await account();
    const results = await Promise.all([
      contacts.sendContactRequest({ userId: b.userId }, a.as),
      contacts.sendContactRequest({ userId: a.userId }, b.as),
    ]);
    expect(results.map((r) => r.becameContacts).sort()).toEqual([false, true]);
    expect(await contactsOf(a)).toEqual([b.userId]);
    expect(await contactsOf(b)).toEqual([a.userId]);
    expect(await stack.query('auth', 'select 1 from contact_request where from_id in ($1, $2)', [a.userId, b.userId])).toHaveLength(0);
    await outboxDrained();
    expect((await published(events.contactAdded)).filter((e) => [e.userId, e.contactUserId].includes(a.userId))).toHaveLength(1);
  });

  it('declines only requests sent to the caller', async () => {
    const a = await account();
    const b = await account();
    const c = await account();
    await contacts.sendContactRequest({ userId: b.userId }, a.as);
    const stranger = await connectErrorOf(contacts.declineContactRequest({ userId: a.userId }, c.as));
    expect([stranger.code, stranger.rawMessage]).toEqual([Code.NotFound, 'this user has not sent you a contact request']);
    expect((await connectErrorOf(contacts.acceptContactRequest({ userId: a.userId }, c.as))).code).toBe(Code.NotFound);
    expect((await connectErrorOf(contacts.declineContactRequest({ userId: b.userId }, a.as))).code).toBe(Code.NotFound);
    await contacts.declineContactRequest({ userId: a.userId }, b.as);
    expect((await contacts.listContactRequests({}, a.as)).outgoing).toHaveLength(0);
    expect((await connectErrorOf(contacts.acceptContactRequest({ userId: a.userId }, b.as))).code).toBe(Code.NotFound);
    expect(await contactsOf(b)).toEqual([]);
  });

  it('cancels only requests the caller sent', async () => {
    const a = await account();
    const b = await account();
    await contacts.sendContactRequest({ userId: b.userId }, a.as);
    const wrongSide = await connectErrorOf(contacts.cancelContactRequest({ userId: a.userId }, b.as));
    expect([wrongSide.code, wrongSide.rawMessage]).toEqual([Code.NotFound, 'you have not sent this user a contact request']);
    await contacts.cancelContactRequest({ userId: b.userId }, a.as);
    expect((await contacts.listContactRequests({}, b.as)).incoming).toHaveLength(0);
    expect((await connectErrorOf(contacts.cancelContactRequest({ userId: b.userId }, a.as))).code).toBe(Code.NotFound);
  });

  it('removes a contact for both sides with auth.contact.removed', async () => {
    const a = await account();
    const b = await account();
    const c = await account();
    await contacts.sendContactRequest({ userId: b.userId }, a.as);
    await contacts.acceptContactRequest({ userId: a.userId }, b.as);
    const notTheirs = await connectErrorOf(contacts.removeContact({ userId: a.userId }, c.as));
    expect([notTheirs.code, notTheirs.rawMessage]).toEqual([Code.NotFound, 'this user is not one of your contacts']);
    await contacts.removeContact({ userId: a.userId }, b.as);
    expect(await contactsOf(a)).toEqual([]);
    expect(await contactsOf(b)).toEqual([]);
    expect((await connectErrorOf(contacts.removeContact({ userId: b.userId }, a.as))).code).toBe(Code.NotFound);
    await eventually(
      () => published(events.contactRemoved),
      (removed) => removed.some((e) => e.userId === b.userId && e.contactUserId === a.userId),
    );
  });
});

describe('blocks', () => {
  it("ends the contact and pending requests, announces both; the blocked user's request is answered as usual but hidden from the blocker", async () => {
    const a = await account();
    const b = await account();
    const c = await account();
    await contacts.sendContactRequest({ userId: b.userId }, a.as);
    await contacts.acceptContactRequest({ userId: a.userId }, b.as);
    await contacts.sendContactRequest({ userId: c.userId }, a.as);

    await contacts.blockUser({ userId: b.userId }, a.as);
    await contacts.blockUser({ userId: c.userId }, a.as);
    expect(await contactsOf(a)).toEqual([]);
    expect(await contactsOf(b)).toEqual([]);
    expect((await contacts.listContactRequests({}, c.as)).incoming).toHaveLength(0);
    expect((await contacts.listBlockedUsers({}, a.as)).users.map((u) => u.id).sort()).toEqual([b.userId, c.userId].sort());
    expect((await contacts.listBlockedUsers({}, b.as)).users).toHaveLength(0);

    await expect(contacts.sendContactRequest({ userId: a.userId }, b.as)).resolves.toMatchObject({ becameContacts: false });
    const again = await connectErrorOf(contacts.sendContactRequest({ userId: a.userId }, b.as));
    expect([again.code, again.rawMessage]).toEqual([Code.AlreadyExists, 'you already sent this user a contact request']);
    expect((await contacts.listContactRequests({}, b.as)).outgoing.map((r) => r.to?.id)).toEqual([a.userId]);
    expect((await contacts.listContactRequests({}, a.as)).incoming).toEqual([]);
    for (const answer of [contacts.acceptContactRequest({ userId: b.userId }, a.as), contacts.declineContactRequest({ userId: b.userId }, a.as)]) {
      const hidden = await connectErrorOf(answer);
      expect([hidden.code, hidden.rawMessage]).toEqual([Code.NotFound, 'this user has not sent you a contact request']);
    }
    const blocker = await connectErrorOf(contacts.sendContactRequest({ userId: b.userId }, a.as));
    expect([blocker.code, blocker.rawMessage]).toEqual([Code.FailedPrecondition, 'you blocked this user: unblock them first (UnblockUser)']);

    await outboxDrained();
    const removed = (await published(events.contactRemoved)).filter((e) => [e.userId, e.contactUserId].includes(a.userId));
    expect(removed).toEqual([expect.objectContaining({ userId: a.userId, contactUserId: b.userId })]);
    const blocks = (await published(events.userBlocked)).filter((e) => e.blockerId === a.userId);
    expect(blocks.map((e) => e.blockedId).sort()).toEqual([b.userId, c.userId].sort());
  });

  it('treats a repeated block as done, without a second auth.user.blocked', async () => {
    const a = await account();
    const b = await account();
    await contacts.blockUser({ userId: b.userId }, a.as);
    await contacts.blockUser({ userId: b.userId }, a.as);
    await outboxDrained();
    expect((await published(events.userBlocked)).filter((e) => e.blockerId === a.userId)).toHaveLength(1);
  });

  it('validates the user id', async () => {
    const a = await account();
    const self = await connectErrorOf(contacts.blockUser({ userId: a.userId }, a.as));
    expect([self.code, self.rawMessage]).toEqual([Code.InvalidArgument, "you can't block yourself"]);
    expect((await connectErrorOf(contacts.blockUser({ userId: 'x' }, a.as))).code).toBe(Code.InvalidArgument);
    expect((await connectErrorOf(contacts.blockUser({ userId: randomUUID() }, a.as))).code).toBe(Code.NotFound);
  });

  it('unblocking lifts only the caller’s own block, with auth.user.unblocked', async () => {
    const a = await account();
    const b = await account();
    await contacts.blockUser({ userId: b.userId }, a.as);
    await contacts.unblockUser({ userId: a.userId }, b.as);
    expect((await contacts.listBlockedUsers({}, a.as)).users.map((u) => u.id)).toEqual([b.userId]);
    await contacts.unblockUser({ userId: b.userId }, a.as);
    expect((await contacts.listBlockedUsers({}, a.as)).users).toHaveLength(0);
    expect(await contacts.sendContactRequest({ userId: a.userId }, b.as)).toMatchObject({ becameContacts: false });
    await outboxDrained();
    const unblocks = (await published(events.userUnblocked)).filter((e) => [e.blockerId, e.blockedId].includes(a.userId));
    expect(unblocks).toEqual([expect.objectContaining({ blockerId: a.userId, blockedId: b.userId })]);
  });
});

describe('privacy', () => {
  it('starts open to everyone, and announces only a change', async () => {
    const a = await account();
    expect((await contacts.getPrivacy({}, a.as)).messagingPolicy).toBe(MessagingPolicy.EVERYONE);
    const set = await contacts.setPrivacy({ messagingPolicy: MessagingPolicy.CONTACTS_ONLY }, a.as);
    expect(set.messagingPolicy).toBe(MessagingPolicy.CONTACTS_ONLY);
    await contacts.setPrivacy({ messagingPolicy: MessagingPolicy.CONTACTS_ONLY }, a.as);
    expect((await contacts.getPrivacy({}, a.as)).messagingPolicy).toBe(MessagingPolicy.CONTACTS_ONLY);
    await contacts.setPrivacy({ messagingPolicy: MessagingPolicy.EVERYONE }, a.as);
    await outboxDrained();
    const changes = (await published(events.privacyChanged)).filter((e) => e.userId === a.userId);
    expect(changes.map((e) => e.contactsOnly)).toEqual([true, false]);
  });

  it('refuses a change that sets nothing, or an unknown policy', async () => {
    const a = await account();
    const nothing = await connectErrorOf(contacts.setPrivacy({ messagingPolicy: MessagingPolicy.UNSPECIFIED }, a.as));
    expect([nothing.code, nothing.rawMessage]).toEqual([Code.InvalidArgument, 'invalid request: set messaging_policy, group_add_policy or both [set_privacy.some_setting]']);
    const unknown = await connectErrorOf(contacts.setPrivacy({ messagingPolicy: 7 as MessagingPolicy }, a.as));
    expect([unknown.code, unknown.rawMessage]).toEqual([
      Code.InvalidArgument,
      'invalid request: messaging_policy: must be MESSAGING_POLICY_EVERYONE, MESSAGING_POLICY_CONTACTS_ONLY or MESSAGING_POLICY_UNSPECIFIED (unchanged) [messaging_policy.known]',
    ]);
  });
});

describe('SearchUsers', () => {
  const stem = `s${process.pid}`;

  it('finds an exact username whatever its case or width, but not a longer one', async () => {
    const caller = await account();
    const target = await account(`${stem}_exact`);
    await account(`${stem}_exact2`);
    await stack.query('auth', "update app_user set display_name = 'Exact One' where id = $1", [target.userId]);
    const wide = `${stem}_EXACT`.replace(/[A-Za-z]/g, (ch) => String.fromCharCode(ch.charCodeAt(0) + 0xfee0));
    const res = await contacts.searchUsers({ query: ` ${wide} ` }, caller.as);
    expect(res.users.map((u) => [u.id, u.displayName])).toEqual([[target.userId, 'Exact One']]);
  });

  it("treats '_' in a prefix as itself, not as a wildcard", async () => {
    const caller = await account();
    await account(`${stem}u_der`);
    await account(`${stem}uxder`);
    const res = await contacts.searchUsers({ query: `${stem}u_`, prefix: true }, caller.as);
    expect(res.users.map((u) => u.username)).toEqual([`${stem}u_der`]);
    const exact = await contacts.searchUsers({ query: `${stem}u_der` }, caller.as);
    expect(exact.users.map((u) => u.username)).toEqual([`${stem}u_der`]);
  });

  it('returns at most 20, by username, never the caller nor anyone the caller blocked, but those who blocked the caller', async () => {
    const prefix = `${stem}.many`;
    const caller = await account(`${prefix}.caller`);
    const made: SignedInDevice[] = [];
    for (let i = 0; i < 23; i++) made.push(await account(`${prefix}${String(i).padStart(2, '0')}`));
    await contacts.blockUser({ userId: made[0]!.userId }, caller.as);
    await contacts.blockUser({ userId: caller.userId }, made[1]!.as);
    const res = await contacts.searchUsers({ query: prefix.toUpperCase(), prefix: true }, caller.as);
    expect(res.users.map((u) => u.username)).toEqual(made.slice(1, 21).map((a) => a.username));
    expect((await contacts.searchUsers({ query: made[0]!.username }, caller.as)).users).toHaveLength(0);
    expect((await contacts.searchUsers({ query: made[1]!.username }, caller.as)).users.map((u) => u.id)).toEqual([made[1]!.userId]);
  });

  it('needs at least 3 characters of a username', async () => {
    const caller = await account();
    const short = await connectErrorOf(contacts.searchUsers({ query: 'ab', prefix: true }, caller.as));
    expect([short.code, short.rawMessage]).toEqual([Code.InvalidArgument, 'query must be at least 3 characters']);
    expect((await connectErrorOf(contacts.searchUsers({ query: 'a%c', prefix: true }, caller.as))).code).toBe(Code.InvalidArgument);
    expect((await connectErrorOf(contacts.searchUsers({ query: '   ' }, caller.as))).rawMessage).toBe('query is required');
  });

  it('is rate limited per caller, saying when to retry', async () => {
    const caller = await account();
    const other = await account();
    for (let i = 0; i < SEARCHES_PER_MINUTE; i++) await contacts.searchUsers({ query: caller.username }, caller.as);
    const err = await connectErrorOf(contacts.searchUsers({ query: caller.username }, caller.as));
    expect(err.code).toBe(Code.ResourceExhausted);
    expect(err.rawMessage).toMatch(/^too many user searches; retry in \d+ s$/);
    await expect(contacts.searchUsers({ query: caller.username }, other.as)).resolves.toMatchObject({ users: [{ id: caller.userId }] });
  });
});
