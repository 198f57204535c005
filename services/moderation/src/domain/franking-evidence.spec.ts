import { create } from '@bufbuild/protobuf';
import { timestampFromMs } from '@bufbuild/protobuf/wkt';
import { Code, ConnectError } from '@connectrpc/connect';
import { frankingCommitment, newFrankingKey, parseFrankingKeyring, reportingTag } from '@parley/crypto';
import { FrankingEvidenceSchema, ReportingTagSchema, type FrankingEvidence } from '@parley/proto';
import { verifyFrankingEvidence, type ReportedMessage } from './franking-evidence.js';

const SERVER_KEY = Buffer.alloc(32, 7);
const keyring = parseFrankingKeyring(`k1:${SERVER_KEY.toString('base64')}`, 'k1');
const sender = '11111111-1111-4111-8111-111111111111';
const recipient = '22222222-2222-4222-8222-222222222222';
const conversation = '33333333-3333-4333-8333-333333333333';
const message = '44444444-4444-4444-8444-444444444444';
const other = '55555555-5555-4555-8555-555555555555';
const report: ReportedMessage = { reporterUserId: recipient, conversationId: conversation, messageId: message, senderUserId: sender };

/** Evidence as an honest recipient holds it: the tag made as messaging makes it. */
async function evidence(plaintext = 'you will regret this'): Promise<FrankingEvidence> {
  const frankingKey = newFrankingKey();
  const bytes = new TextEncoder().encode(plaintext);
  const commitment = await frankingCommitment(frankingKey, bytes);
  const ctx = { keyId: 'k1', commitment, senderUserId: sender, senderDeviceId: 1, recipientUserId: recipient, recipientDeviceId: 2, conversationId: conversation, messageId: message, serverTimeMs: 1_765_152_000_000n };
  const tag = reportingTag(SERVER_KEY, ctx);
  return create(FrankingEvidenceSchema, {
    plaintext: bytes,
    frankingKey,
    reportingTag: create(ReportingTagSchema, { ...ctx, tag, serverTime: timestampFromMs(Number(ctx.serverTimeMs)) }),
  });
}

async function refusal(call: Promise<void>): Promise<ConnectError> {
  try {
    await call;
  } catch (err) {
    return ConnectError.from(err);
  }
  throw new Error('expected a refusal');
}

describe('franking evidence', () => {
  it('verifies an honest recipient\'s evidence', async () => {
    await expect(verifyFrankingEvidence(keyring, report, await evidence())).resolves.toBeUndefined();
  });

  it('refuses forged plaintext as unverified', async () => {
    const e = await evidence();
    e.plaintext = new TextEncoder().encode('something the sender never said');
    const err = await refusal(verifyFrankingEvidence(keyring, report, e));
    expect([err.code, err.rawMessage]).toEqual([Code.InvalidArgument, expect.stringMatching(/^unverified: the plaintext and franking key do not open/)]);
  });

  it('refuses a tag moved to another conversation as unverified', async () => {
    const e = await evidence();
    e.reportingTag!.conversationId = other;
    const err = await refusal(verifyFrankingEvidence(keyring, { ...report, conversationId: other }, e));
    expect([err.code, err.rawMessage]).toEqual([Code.InvalidArgument, expect.stringMatching(/^unverified: the reporting tag does not match/)]);
  });

  it('refuses a swapped sender as unverified', async () => {
    const e = await evidence();
    e.reportingTag!.senderUserId = other;
    const err = await refusal(verifyFrankingEvidence(keyring, { ...report, senderUserId: other }, e));
    expect([err.code, err.rawMessage]).toEqual([Code.InvalidArgument, expect.stringMatching(/^unverified: the reporting tag does not match/)]);
  });

  it('refuses an unknown key id with FAILED_PRECONDITION', async () => {
    const e = await evidence();
    e.reportingTag!.keyId = 'retired';
    expect((await refusal(verifyFrankingEvidence(keyring, report, e))).code).toBe(Code.FailedPrecondition);
  });

  it('refuses a reporter who is not the tag\'s recipient', async () => {
    expect((await refusal(verifyFrankingEvidence(keyring, { ...report, reporterUserId: other }, await evidence()))).code).toBe(Code.PermissionDenied);
  });

  it('refuses evidence about another message than the report names', async () => {
    const err = await refusal(verifyFrankingEvidence(keyring, { ...report, messageId: other }, await evidence()));
    expect([err.code, err.rawMessage]).toEqual([Code.InvalidArgument, expect.stringContaining('is for another message')]);
  });

  it('refuses a tag that does not parse, naming what is wrong', async () => {
    const e = await evidence();
    e.reportingTag!.tag = new Uint8Array(5);
    e.reportingTag!.senderUserId = 'nobody';
    const err = await refusal(verifyFrankingEvidence(keyring, report, e));
    expect([err.code, err.rawMessage]).toEqual([Code.InvalidArgument, expect.stringMatching(/doesn't parse: tag must be 32 bytes; senderUserId must be a UUID/)]);
  });
});
