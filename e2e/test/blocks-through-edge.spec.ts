import { cryptoReady } from '@parley/crypto';
import { MessagingPolicy } from '@parley/proto';
import { eventually, startTestStack, type TestStack } from '@parley/testing';
import { signUp, type EdgeDevice } from './support/accounts.js';
import { withSignalKeys } from './support/keyed-device.js';

/**
 * A blocked user gets, from every service, the answer someone gets who is refused by a privacy
 * setting or asks about a user without keys: Mallory asks Alice, who blocked her, and Carol, who
 * accepts contacts only and has no keys yet; the two answers must be the same but for the user.
 */
let stack: TestStack;
let alice: EdgeDevice;
let carol: EdgeDevice;
let mallory: EdgeDevice;

beforeAll(async () => {
  await cryptoReady();
  stack = await startTestStack();
  [alice, carol, mallory] = await Promise.all([signUp(stack, 'alice'), signUp(stack, 'carol'), signUp(stack, 'mallory')]);
  await withSignalKeys(stack, alice);
  await carol.contacts.setPrivacy({ messagingPolicy: MessagingPolicy.CONTACTS_ONLY });
  await alice.contacts.blockUser({ userId: mallory.userId });
});

afterAll(() => stack?.cleanup());

/** POSTs a Connect JSON call as Mallory and returns the HTTP status and body, byte for byte. */
async function asMallory(method: string, body: object): Promise<{ status: number; body: string }> {
  const res = await fetch(`${stack.edgeUrl}/${method}`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', authorization: `Bearer ${mallory.tokens.accessToken}` },
    body: JSON.stringify(body),
  });
  return { status: res.status, body: await res.text() };
}

/** The answer about `target`, with what is the target's own (id, username, sign-up time) replaced, to set beside another's. */
async function answerAbout(target: EdgeDevice, method: string, body: object): Promise<{ status: number; body: string }> {
  const res = await asMallory(method, body);
  const own = res.body.replaceAll(target.userId, '<user>').replaceAll(target.username, '<username>');
  return { status: res.status, body: own.replace(/"createdAt":"[^"]+"/g, '"createdAt":"<time>"') };
}

describe('a blocked user can tell a block from nothing else', () => {
  it('KeyService/GetPreKeyBundles answers NOT_FOUND, as for a user without keys', async () => {
    const method = 'parley.keys.v1.KeyService/GetPreKeyBundles';
    // Keys learns of the block from auth.user.blocked; until then Mallory gets Alice's keys.
    const blocked = await eventually(
      () => answerAbout(alice, method, { userId: alice.userId }),
      (res) => res.status !== 200,
    );
    const control = await answerAbout(carol, method, { userId: carol.userId });
    expect(control).toEqual({ status: 404, body: JSON.stringify({ code: 'not_found', message: 'user <user> has no devices with keys' }) });
    expect(blocked).toEqual(control);
  });

  it('ContactService/SearchUsers finds the blocker, as it finds a contacts-only user', async () => {
    const method = 'parley.auth.v1.ContactService/SearchUsers';
    const blocked = await answerAbout(alice, method, { query: alice.username });
    const control = await answerAbout(carol, method, { query: carol.username });
    expect(JSON.parse(blocked.body).users).toHaveLength(1);
    expect(blocked).toEqual(control);
  });

  it('ContactService/SendContactRequest is answered as usual, the first time and the second', async () => {
    const method = 'parley.auth.v1.ContactService/SendContactRequest';
    const first = [await answerAbout(alice, method, { userId: alice.userId }), await answerAbout(carol, method, { userId: carol.userId })];
    expect(first[0]).toEqual({ status: 200, body: '{}' });
    expect(first[0]).toEqual(first[1]);
    const second = [await answerAbout(alice, method, { userId: alice.userId }), await answerAbout(carol, method, { userId: carol.userId })];
    expect(second[0]!.status).toBe(409);
    expect(second[0]).toEqual(second[1]);
    // Alice never sees it; Carol, who only set a privacy setting, does.
    expect((await alice.contacts.listContactRequests({})).incoming).toEqual([]);
    expect((await carol.contacts.listContactRequests({})).incoming.map((r) => r.from?.id)).toEqual([mallory.userId]);
  });

  it("ConversationService/OpenDirectConversation is refused with the privacy setting's PERMISSION_DENIED", async () => {
    const method = 'parley.messaging.v1.ConversationService/OpenDirectConversation';
    const blocked = await eventually(
      () => answerAbout(alice, method, { userId: alice.userId }),
      (res) => res.status !== 200,
    );
    // Messaging learns Carol's setting from auth.privacy.changed.
    const control = await eventually(
      () => answerAbout(carol, method, { userId: carol.userId }),
      (res) => res.status !== 200,
    );
    expect(control).toEqual({ status: 403, body: JSON.stringify({ code: 'permission_denied', message: 'this user does not accept messages from you' }) });
    expect(blocked).toEqual(control);
  });
});
