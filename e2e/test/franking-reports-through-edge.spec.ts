import { randomUUID } from 'node:crypto';
import { Code, ConnectError } from '@connectrpc/connect';
import { buildMessageReport, cryptoReady, frankMessage, openFrankedContent, openFrankingCommitment } from '@parley/crypto';
import { ReportReason, type Delivery, type Envelope } from '@parley/proto';
import { connectErrorOf, eventually, startTestStack, type TestStack } from '@parley/testing';
import { signUp, type EdgeDevice } from './support/accounts.js';
import { withSignalKeys, type KeyedDevice } from './support/keyed-device.js';
import { mismatchOf, openDirect } from './support/messages.js';
import { moderationClientsOf, untilModerationKnows, untilModerationKnowsConversation, type ModerationClients } from './support/moderation.js';
import { decryptEnvelopeBytes, encryptForDevices } from './support/signal-envelopes.js';
import { closeAllSubscriptions, deliveriesOf, queueOf } from './support/subscription.js';

/**
 * Message franking end to end, through the edge, as real clients do it: Bob's libsignal client
 * franks a message (the franking key inside the encrypted content, the commitment in
 * SendMessageRequest), messaging tags the envelope at relay time, Alice decrypts it, opens the
 * commitment and reports it; the report is verified, and each forgery is refused.
 * Needs messaging's half of issue 14 ("frank"): reporting tags on delivered envelopes.
 */
let stack: TestStack;
let alice: EdgeDevice & ModerationClients;
let bob: EdgeDevice;
let aliceKeys: KeyedDevice;
let bobKeys: KeyedDevice;
let conversationId: string;

beforeAll(async () => {
  await cryptoReady();
  stack = await startTestStack();
  const [aliceAccount, bobAccount] = await Promise.all([signUp(stack, 'alice'), signUp(stack, 'bob')]);
  alice = { ...aliceAccount, ...moderationClientsOf(stack, aliceAccount) };
  bob = bobAccount;
  [aliceKeys, bobKeys] = await Promise.all([withSignalKeys(stack, alice), withSignalKeys(stack, bob)]);
  conversationId = (await openDirect(bob, alice)).id;
  await untilModerationKnows(stack, [alice.userId, bob.userId]);
  await untilModerationKnowsConversation(stack, conversationId);
});

afterEach(closeAllSubscriptions);

afterAll(() => stack?.cleanup());

function envelopeOf(delivery: Delivery | undefined): Envelope {
  if (delivery?.payload.case !== 'envelope') throw new Error('expected an envelope delivery');
  return delivery.payload.value;
}

/** Bob franks `text`, encrypts the franked content for Alice and sends it with its commitment; the envelope Alice gets. */
async function frankedFromBob(text: string): Promise<Envelope> {
  const franked = await frankMessage(new TextEncoder().encode(text));
  const { bundles } = await bobKeys.keys.getPreKeyBundles({ userId: alice.userId, deviceId: 0 });
  const envelopes = await encryptForDevices(bobKeys.signal, bundles.map((bundle) => ({ userId: alice.userId, bundle })), () => franked.content);
  const clientMessageId = randomUUID();
  const sent = await eventually(
    () => bob.messages.sendMessage({ conversationId, clientMessageId, envelopes, frankingCommitment: franked.commitment }).catch((err) => ConnectError.from(err)),
    (res) => !(res instanceof ConnectError && mismatchOf(res)),
  );
  if (sent instanceof ConnectError) throw sent;
  return envelopeOf(deliveriesOf(sent.messageId, await queueOf(stack.edgeUrl, alice))[0]);
}

/** What Alice's client does to report a delivered franked envelope. */
async function aliceBuildsReport(envelope: Envelope) {
  if (!envelope.reportingTag) throw new Error('the delivered envelope has no reporting_tag: this needs messaging\'s franking (issue 14, "frank")');
  return buildMessageReport(await decryptEnvelopeBytes(aliceKeys.signal, envelope), envelope.reportingTag);
}

it('a franked libsignal message arrives tagged, opens its commitment, and its report is verified', async () => {
  const envelope = await frankedFromBob('meet me behind the station, or else');
  const content = await decryptEnvelopeBytes(aliceKeys.signal, envelope);
  const { frankingKey, plaintext } = openFrankedContent(content);
  expect(new TextDecoder().decode(plaintext)).toBe('meet me behind the station, or else');
  expect(envelope.reportingTag).toMatchObject({ senderUserId: bob.userId, recipientUserId: alice.userId, conversationId, messageId: envelope.messageId });
  expect(await openFrankingCommitment(frankingKey, plaintext, envelope.reportingTag!.commitment)).toBe(true);
  const report = await buildMessageReport(content, envelope.reportingTag!);
  const { report: filed } = await alice.moderation.reportMessage({ ...report, reason: ReportReason.HARASSMENT });
  expect(filed).toMatchObject({ verified: true, targetUserId: bob.userId, messageId: envelope.messageId });
});

it.each<[string, (r: Awaited<ReturnType<typeof aliceBuildsReport>>) => void, Code]>([
  ['forged plaintext', (r) => void (r.evidence.plaintext = new TextEncoder().encode('a harmless message')), Code.InvalidArgument],
  ['a tag moved to another conversation', (r) => void (r.conversationId = r.evidence.reportingTag.conversationId = randomUUID()), Code.InvalidArgument],
  ['a swapped sender', (r) => void (r.senderUserId = r.evidence.reportingTag.senderUserId = alice.userId), Code.InvalidArgument],
  ['an unknown key id', (r) => void (r.evidence.reportingTag.keyId = 'never-issued'), Code.FailedPrecondition],
])('a report with %s is refused as unverified', async (_, forge, code) => {
  const report = await aliceBuildsReport(await frankedFromBob('hello'));
  forge(report);
  expect((await connectErrorOf(alice.moderation.reportMessage({ ...report, reason: ReportReason.SPAM }))).code).toBe(code);
});

it('a replayed tag is refused', async () => {
  const report = await aliceBuildsReport(await frankedFromBob('buy cheap watches'));
  await alice.moderation.reportMessage({ ...report, reason: ReportReason.SPAM });
  expect((await connectErrorOf(alice.moderation.reportMessage({ ...report, reason: ReportReason.SPAM }))).code).toBe(Code.AlreadyExists);
});
