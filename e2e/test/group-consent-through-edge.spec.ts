import { Code, ConnectError } from '@connectrpc/connect';
import { GroupAddPolicy, MessagingPolicy } from '@parley/proto';
import { connectErrorOf, eventually, startTestStack, type TestStack } from '@parley/testing';
import { signUp, type EdgeDevice } from './support/accounts.js';
import { createGroup } from './support/messages.js';

/**
 * Adding someone to a group needs their consent, the way messaging privacy works: their "who may
 * add me to groups" (everyone, contacts, nobody), which messaging learns from auth.privacy.changed.
 */
let stack: TestStack;

beforeAll(async () => {
  stack = await startTestStack({ services: ['auth', 'messaging', 'edge'], env: { auth: { BCRYPT_COST: '4' } } });
});

afterAll(() => stack?.cleanup());

/** The refusal of `adder` adding `user` to a new group, with the user's id blanked; 'ok' once added. */
const addOutcome = (adder: EdgeDevice, user: EdgeDevice) =>
  adder.conversations.createGroup({ memberUserIds: [user.userId] }).then(
    () => 'ok',
    (err: unknown) => {
      const e = ConnectError.from(err);
      return `${Code[e.code]}: ${e.rawMessage.replace(user.userId, '<user>')}`;
    },
  );
/** Waits until messaging applies `user`'s new setting: `adder`'s add comes out as `expected`. */
const untilAdd = (adder: EdgeDevice, user: EdgeDevice, expected: string) =>
  eventually(
    () => addOutcome(adder, user),
    (o) => o === expected,
  );

const REFUSED = 'PermissionDenied: user <user> does not accept messages from you';

async function contacts(a: EdgeDevice, b: EdgeDevice): Promise<void> {
  await a.contacts.sendContactRequest({ userId: b.userId });
  await b.contacts.acceptContactRequest({ userId: a.userId });
}

describe('who may add me to groups', () => {
  it('is everyone by default, and GetPrivacy says so', async () => {
    const [alice, bob] = await Promise.all([signUp(stack, 'alice'), signUp(stack, 'bob')]);
    expect(await bob.contacts.getPrivacy({})).toMatchObject({ messagingPolicy: MessagingPolicy.EVERYONE, groupAddPolicy: GroupAddPolicy.EVERYONE });
    await createGroup(alice, [bob]);
  });

  it('set to contacts: a contact may add me, anyone else is refused, on CreateGroup and AddMembers alike', async () => {
    const [bob, contact, stranger] = await Promise.all([signUp(stack, 'bob'), signUp(stack, 'carol'), signUp(stack, 'mallory')]);
    await contacts(bob, contact);
    const set = await bob.contacts.setPrivacy({ groupAddPolicy: GroupAddPolicy.CONTACTS });
    // Only the group setting changed.
    expect(set).toMatchObject({ messagingPolicy: MessagingPolicy.EVERYONE, groupAddPolicy: GroupAddPolicy.CONTACTS });
    await untilAdd(stranger, bob, REFUSED);
    expect(await addOutcome(contact, bob)).toBe('ok');
    const group = await stranger.conversations.createGroup({ memberUserIds: [] });
    const err = await connectErrorOf(stranger.conversations.addMembers({ conversationId: group.conversation!.id, userIds: [bob.userId] }));
    expect([err.code, err.rawMessage]).toEqual([Code.PermissionDenied, `user ${bob.userId} does not accept messages from you`]);
    // Messaging privacy is untouched: the stranger may still write to Bob directly.
    await stranger.conversations.openDirectConversation({ userId: bob.userId });
  });

  it('set to nobody: even a contact is refused, with the answer a block gives', async () => {
    const [bob, contact, dave] = await Promise.all([signUp(stack, 'bob'), signUp(stack, 'carol'), signUp(stack, 'dave')]);
    await contacts(bob, contact);
    await createGroup(contact, [bob]);
    await bob.contacts.setPrivacy({ groupAddPolicy: GroupAddPolicy.NOBODY });
    const byNobody = await untilAdd(contact, bob, REFUSED);
    // Dave blocks the contact: the contact's add of Dave reads the same.
    await dave.contacts.blockUser({ userId: contact.userId });
    expect(await untilAdd(contact, dave, REFUSED)).toBe(byNobody);
    // Back to everyone: the contact may add Bob again.
    await bob.contacts.setPrivacy({ groupAddPolicy: GroupAddPolicy.EVERYONE });
    await untilAdd(contact, bob, 'ok');
  });

  it('refuses a SetPrivacy that sets nothing, or an unknown setting', async () => {
    const bob = await signUp(stack, 'bob');
    expect((await connectErrorOf(bob.contacts.setPrivacy({}))).code).toBe(Code.InvalidArgument);
    const unknown = await connectErrorOf(bob.contacts.setPrivacy({ groupAddPolicy: 9 as GroupAddPolicy }));
    expect([unknown.code, unknown.rawMessage]).toEqual([
      Code.InvalidArgument,
      'invalid request: group_add_policy: must be GROUP_ADD_POLICY_EVERYONE, GROUP_ADD_POLICY_CONTACTS, GROUP_ADD_POLICY_NOBODY or GROUP_ADD_POLICY_UNSPECIFIED (unchanged) [group_add_policy.known]',
    ]);
  });
});
