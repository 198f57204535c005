import { startTestStack, type TestStack } from '@parley/testing';
import { closeDevices, listen, openDirect, signedUp, texts, untilReceived } from './support';

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
});
