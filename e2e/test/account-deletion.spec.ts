import { Code } from '@connectrpc/connect';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { PASSWORD, TusClient, connectErrorOf, eventually, startTestStack, type TestStack } from '@parley/testing';
import { clientsOf, linkWithPassword, signUp, type EdgeDevice } from './support/accounts.js';
import { createGroup, opaqueEnvelope, openDirect, sendWhenDevicesKnown } from './support/messages.js';
import { closeAllSubscriptions, deliveriesOf, queueOf, Subscription } from './support/subscription.js';
import { tracesOf } from './support/traces.js';

let stack: TestStack;

beforeAll(async () => {
  stack = await startTestStack();
});

afterEach(closeAllSubscriptions);

afterAll(() => stack?.cleanup());

/** Reads the device's queue and acks all of it, as an app does with what it has processed. */
async function receiveAll(device: EdgeDevice) {
  const subscription = Subscription.open(stack.edgeUrl, device);
  const deliveries = await subscription.backlog();
  if (deliveries.length > 0) await subscription.ack(deliveries);
  await subscription.close();
  return deliveries;
}

it('deleting an account leaves nothing of the user in any service database, and its tokens stop at once', async () => {
  const alice = await signUp(stack, 'alice');
  const dave = await signUp(stack, 'dave');
  const carol = await signUp(stack, 'carol');
  const laptop = await linkWithPassword(stack, carol, 'Laptop');
  await carol.auth.updateProfile({ displayName: 'Carol C.', avatarMediaId: 'avatar_1' });
  await carol.contacts.sendContactRequest({ userId: alice.userId });
  await alice.contacts.acceptContactRequest({ userId: carol.userId });
  await carol.contacts.blockUser({ userId: dave.userId });
  await carol.contacts.setPrivacy({ messagingPolicy: 2 });
  await clientsOf(stack).auth.requestPasswordReset({ username: carol.username });
  await connectErrorOf(clientsOf(stack).auth.login({ username: carol.username, password: 'not the password at all', registrationId: 1 }));
  const conversation = await openDirect(alice, carol);

  // Carol messages Alice and is messaged back, joins a group and writes in it, and stores an item.
  const bob = await signUp(stack, 'bob');
  const fromCarol = await sendWhenDevicesKnown(carol.messages, conversation.id, [opaqueEnvelope(alice, 'hi'), opaqueEnvelope(laptop, 'hi')]);
  const toCarol = await sendWhenDevicesKnown(alice.messages, conversation.id, [opaqueEnvelope(carol, 'hey'), opaqueEnvelope(laptop, 'hey')]);
  const group = await createGroup(alice, [bob]);
  await alice.conversations.addMembers({ conversationId: group.id, userIds: [carol.userId] });
  const inGroup = await sendWhenDevicesKnown(
    carol.messages,
    group.id,
    [alice, bob, laptop].map((d) => opaqueEnvelope(d, 'hello, group')),
  );
  await carol.storage.putItem({ key: 'starred.1', value: new TextEncoder().encode('a starred message, encrypted') });
  // Carol uploads an attachment and grants it to the group, and starts an upload she never finishes.
  const carolTus = new TusClient(stack.edgeUrl, carol.tokens.accessToken);
  const attachmentId = await carolTus.upload(new TextEncoder().encode('an encrypted photo'));
  const unfinished = await carolTus.start(new TextEncoder().encode('an encrypted video'));
  await eventually(
    () => carol.media.grantAttachment({ attachmentId, conversationId: group.id }).then(() => true, () => false),
    (granted) => granted,
  );
  expect((await new TusClient(stack.edgeUrl, bob.tokens.accessToken).download(attachmentId)).status).toBe(200);
  // Carol's phone and the others read what they got; her laptop's queue still holds its deliveries.
  expect(deliveriesOf(toCarol.messageId, await receiveAll(carol))).toHaveLength(1);
  expect(deliveriesOf(fromCarol.messageId, await receiveAll(alice))).toHaveLength(1);
  expect(deliveriesOf(inGroup.messageId, await receiveAll(bob))).toHaveLength(1);
  expect(deliveriesOf(toCarol.messageId, await queueOf(stack.edgeUrl, laptop))).toHaveLength(1);

  // The search can see the user where they are stored, so an empty result below means something.
  const carolIs = [carol.userId, carol.username];
  const before = await eventually(
    () => tracesOf(stack, carolIs),
    (traces) => ['auth', 'messaging', 'media'].every((s) => traces.some((t) => t.service === s)),
  );
  expect(before.map((t) => `${t.service}.${t.table}`)).toEqual(
    expect.arrayContaining([
      'auth.app_user',
      'auth.device',
      'auth.session',
      'messaging.conversation_member',
      'messaging.message',
      'messaging.queued_delivery',
      'messaging.stored_item',
      'media.attachment',
      'media.conversation_members',
    ]),
  );

  const wrong = await connectErrorOf(carol.auth.deleteAccount({ password: 'not the password at all' }));
  expect(wrong.code).toBe(Code.PermissionDenied);
  expect((await carol.auth.getMe({})).user?.id).toBe(carol.userId);

  await carol.auth.deleteAccount({ password: PASSWORD });

  for (const device of [carol, laptop]) {
    const err = await connectErrorOf(device.conversations.openDirectConversation({ userId: alice.userId }));
    expect(err.code).toBe(Code.Unauthenticated);
  }
  expect((await connectErrorOf(clientsOf(stack).auth.refresh({ refreshToken: laptop.tokens.refreshToken }))).code).toBe(Code.Unauthenticated);

  await eventually(() => tracesOf(stack, carolIs), (traces) => traces.length === 0);
  // Her blobs are gone from media's store, and so is the grant to the group.
  await eventually(async () => [attachmentId, unfinished.id].filter((id) => existsSync(join(stack.mediaDir, id))), (left) => left.length === 0);
  expect(await tracesOf(stack, [attachmentId, unfinished.id])).toEqual([]);
  expect((await new TusClient(stack.edgeUrl, bob.tokens.accessToken).download(attachmentId)).status).toBe(404);
  // Checked after the search: a failed login starts a rate-limit bucket under the name tried.
  expect((await connectErrorOf(clientsOf(stack).auth.login({ username: carol.username, password: PASSWORD, registrationId: 1 }))).code).toBe(Code.Unauthenticated);
  // Other users keep their own data; the conversation with a deleted user is gone.
  expect((await alice.contacts.listContacts({})).contacts).toEqual([]);
  await eventually(() => tracesOf(stack, [conversation.id]), (traces) => traces.length === 0);
  // The group goes on without her.
  const { conversation: after } = await alice.conversations.getConversation({ conversationId: group.id });
  expect(after!.members.map((m) => m.userId).sort()).toEqual([alice.userId, bob.userId].sort());
  expect((await alice.auth.getMe({})).user?.id).toBe(alice.userId);
  // The username is free again.
  const again = await clientsOf(stack).auth.register({ username: carol.username, password: PASSWORD, registrationId: 9 });
  expect(again.user?.id).not.toBe(carol.userId);
});

it('without the password, deletion needs a recent login', async () => {
  const erin = await signUp(stack, 'erin');
  // Registration proved the password just now, so it counts as a recent login.
  await erin.auth.deleteAccount({});
  expect((await connectErrorOf(erin.auth.getMe({}))).code).toBe(Code.Unauthenticated);
});
