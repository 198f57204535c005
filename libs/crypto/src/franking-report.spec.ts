import { openFrankingCommitment } from './franking.js';
import { buildMessageReport, frankMessage, openFrankedContent } from './franking-report.js';

const text = (s: string) => new TextEncoder().encode(s);

const tagFor = (commitment: Uint8Array) => ({
  keyId: 'k1',
  tag: new Uint8Array(32),
  commitment,
  senderUserId: '11111111-1111-4111-8111-111111111111',
  senderDeviceId: 1,
  recipientUserId: '22222222-2222-4222-8222-222222222222',
  recipientDeviceId: 1,
  conversationId: '33333333-3333-4333-8333-333333333333',
  messageId: '44444444-4444-4444-8444-444444444444',
});

describe('franked messages', () => {
  it('carry a fresh key inside the content that opens the commitment sent beside it', async () => {
    const a = await frankMessage(text('hello'));
    const b = await frankMessage(text('hello'));
    const { frankingKey, plaintext } = openFrankedContent(a.content);
    expect(Buffer.from(plaintext).toString()).toBe('hello');
    expect(await openFrankingCommitment(frankingKey, plaintext, a.commitment)).toBe(true);
    expect(Buffer.from(a.commitment).equals(Buffer.from(b.commitment))).toBe(false);
  });

  it('build a report naming the tagged message, with the evidence', async () => {
    const sent = await frankMessage(text('abuse'));
    const report = await buildMessageReport(sent.content, tagFor(sent.commitment));
    expect(report.conversationId).toBe('33333333-3333-4333-8333-333333333333');
    expect(report.senderUserId).toBe('11111111-1111-4111-8111-111111111111');
    expect(Buffer.from(report.evidence.plaintext).toString()).toBe('abuse');
  });

  it('refuse to build a report whose content does not open the tagged commitment', async () => {
    const sent = await frankMessage(text('abuse'));
    const other = await frankMessage(text('something else'));
    await expect(buildMessageReport(other.content, tagFor(sent.commitment))).rejects.toThrow(/does not open/);
  });

  it('refuse content too short to hold a franking key', () => {
    expect(() => openFrankedContent(new Uint8Array(5))).toThrow(RangeError);
  });
});
