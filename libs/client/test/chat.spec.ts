import { startTestStack, type TestStack } from '@parley/testing';
import { eventually } from '@parley/testing';
import type { IncomingMessage, Retraction } from '../src/content';
import { closeDevices, listen, newDevice, openDirect, signedUp, texts, untilReceived } from './support';

describe('two SDK clients chat through the edge with libsignal', () => {
  let stack: TestStack;

  beforeAll(async () => {
    stack = await startTestStack({ services: ['auth', 'keys', 'messaging', 'edge'], env: { auth: { BCRYPT_COST: '4' } } });
  });
  afterEach(closeDevices);
  afterAll(async () => {
    await stack?.cleanup();
  });

  it('sends text both ways, decrypted on the other side, in order', async () => {
    const alice = await signedUp(stack, 'alice');
    const bob = await signedUp(stack, 'bob');
    await listen(alice);
    await listen(bob);
    const conversationId = await openDirect(alice, bob.client.account!.userId);
    await alice.client.sendText(conversationId, 'hello bob');
    await alice.client.sendText(conversationId, 'second');
    await untilReceived(bob, 2);
    await bob.client.sendText(conversationId, 'hi alice');
    await untilReceived(alice, 1);
    expect(texts(bob)).toEqual(['hello bob', 'second']);
    expect(texts(alice)).toEqual(['hi alice']);
    expect(bob.received.map((m) => m.seq)).toEqual([1n, 2n]);
  });

  it('a message the app had not stored when it crashed comes again after restart, from the log, and is acked once stored', async () => {
    const alice = await signedUp(stack, 'alice');
    const bob = await signedUp(stack, 'bob');
    const conversationId = await openDirect(alice, bob.client.account!.userId);
    const unstored: IncomingMessage[] = [];
    bob.client.on('message', (m) => unstored.push(m));
    await bob.client.inbox.start();
    await alice.client.sendText(conversationId, 'keep me');
    await eventually(async () => unstored.length, (n) => n === 1);
    // The app dies before storing it.
    await bob.client.close();
    bob.store.close();

    const restarted = newDevice(stack.edgeUrl, { dir: bob.dir });
    await listen(restarted);
    await untilReceived(restarted, 1);
    expect(texts(restarted)).toEqual(['keep me']);
    expect(restarted.received[0]!.deliveryId).toBe(unstored[0]!.deliveryId);
    await restarted.client.inbox.flushAcks();
    await eventually(
      () => stack.query('messaging', 'select 1 from queued_delivery where recipient_user_id = $1', [restarted.client.account!.userId]),
      (rows) => rows.length === 0,
    );
  });

  it('a group of three: text, edit, reaction, receipt, typing and delete for everyone', async () => {
    const [alice, bob, carol] = [await signedUp(stack, 'alice'), await signedUp(stack, 'bob'), await signedUp(stack, 'carol')];
    for (const d of [alice, bob, carol]) await listen(d);
    const typing: string[] = [];
    carol.client.on('typing', (t) => typing.push(`${t.userId === alice.client.account!.userId ? 'alice' : '?'} ${t.typing}`));
    const retracted: Retraction[] = [];
    bob.client.on('retracted', (r) => retracted.push(r));
    const group = await eventually(
      () => alice.client.createGroup([bob.client.account!.userId, carol.client.account!.userId]).catch((err: Error) => err),
      (res) => !(res instanceof Error),
    );
    if (group instanceof Error) throw group;
    await alice.client.typing(group.id, true);
    const hello = await alice.client.sendText(group.id, 'hello group');
    await alice.client.edit(group.id, hello.messageId, 'hello, group');
    await untilReceived(bob, 2);
    await bob.client.react(group.id, hello.messageId, '👋');
    await carol.client.receipt(group.id, 'read', [hello.messageId]);
    const oops = await alice.client.sendText(group.id, 'oops');
    await untilReceived(bob, 4);
    await alice.client.deleteForEveryone(group.id, oops.messageId);
    await eventually(async () => retracted.length, (n) => n === 1);
    await untilReceived(carol, 4);
    await untilReceived(alice, 2);

    expect(retracted[0]).toMatchObject({ conversationId: group.id, messageId: oops.messageId, seq: oops.seq });
    expect(bob.received.map((m) => m.content)).toEqual([
      { kind: 'text', text: 'hello group' },
      { kind: 'edit', targetMessageId: hello.messageId, text: 'hello, group' },
      { kind: 'receipt', receipt: 'read', messageIds: [hello.messageId] },
      { kind: 'text', text: 'oops' },
    ]);
    expect(carol.received.map((m) => m.content.kind)).toEqual(['text', 'edit', 'reaction', 'text']);
    expect(alice.received.map((m) => m.content.kind)).toEqual(['reaction', 'receipt']);
    expect(typing).toEqual(['alice true']);
  });
});
