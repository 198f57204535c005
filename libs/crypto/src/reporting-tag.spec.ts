import { parseFrankingKeyring, reportingTag, verifyReportingTag, type ReportingTagContext } from './reporting-tag.js';

// Computed independently (Python's hmac) from the encoding documented in reporting-tag.ts.
const REPORTING_TAG_VECTOR = '61d02c644a96123b0e5b3513eb85f56e023cdf681c1c9a3885bfd4f16e47941f';
const serverKey = new Uint8Array(32).fill(7);
const context: ReportingTagContext = {
  keyId: 'k1',
  commitment: new Uint8Array(32).fill(1),
  senderUserId: '11111111-1111-4111-8111-111111111111',
  senderDeviceId: 1,
  recipientUserId: '22222222-2222-4222-8222-222222222222',
  recipientDeviceId: 2,
  conversationId: '33333333-3333-4333-8333-333333333333',
  messageId: '44444444-4444-4444-8444-444444444444',
  serverTimeMs: 1_765_152_000_000n,
};

describe('reporting tags', () => {
  it('gives the fixed vector every implementation must reproduce', () => {
    expect(Buffer.from(reportingTag(serverKey, context)).toString('hex')).toBe(REPORTING_TAG_VECTOR);
  });

  it('verifies its own tag', () => {
    expect(verifyReportingTag(serverKey, context, reportingTag(serverKey, context))).toBe(true);
  });

  it.each<[string, Partial<ReportingTagContext>]>([
    ['another commitment (forged plaintext)', { commitment: new Uint8Array(32).fill(9) }],
    ['another sender', { senderUserId: '55555555-5555-4555-8555-555555555555' }],
    ['another sender device', { senderDeviceId: 3 }],
    ['another recipient', { recipientUserId: '55555555-5555-4555-8555-555555555555' }],
    ['another recipient device', { recipientDeviceId: 1 }],
    ['another conversation', { conversationId: '55555555-5555-4555-8555-555555555555' }],
    ['another message', { messageId: '55555555-5555-4555-8555-555555555555' }],
    ['another time', { serverTimeMs: context.serverTimeMs + 1n }],
    ['another key id', { keyId: 'k2' }],
  ])('refuses a tag moved to %s', (_, change) => {
    const tag = reportingTag(serverKey, context);
    expect(verifyReportingTag(serverKey, { ...context, ...change }, tag)).toBe(false);
  });

  it('refuses a tag under another server key, and tags of the wrong size', () => {
    const tag = reportingTag(serverKey, context);
    expect(verifyReportingTag(new Uint8Array(32).fill(8), context, tag)).toBe(false);
    expect(verifyReportingTag(serverKey, context, tag.subarray(0, 31))).toBe(false);
  });

  it('length-prefixes fields, so bytes cannot move across a boundary', () => {
    const a = reportingTag(serverKey, { ...context, conversationId: 'ab', messageId: 'c' });
    const b = reportingTag(serverKey, { ...context, conversationId: 'a', messageId: 'bc' });
    expect(Buffer.from(a)).not.toEqual(Buffer.from(b));
  });
});

describe('parseFrankingKeyring', () => {
  const k = (byte: number) => Buffer.alloc(32, byte).toString('base64');

  it('reads id:base64 pairs and the active id', () => {
    const ring = parseFrankingKeyring(`old:${k(1)}, new:${k(2)}`, 'new');
    expect(ring.activeKeyId).toBe('new');
    expect([...ring.keys.keys()]).toEqual(['old', 'new']);
    expect(Buffer.from(ring.keys.get('old')!)).toEqual(Buffer.alloc(32, 1));
  });

  it.each([
    [`k1:${Buffer.alloc(16).toString('base64')}`, 'k1', 'at least 32 bytes'],
    [`k1:${k(1)},k1:${k(2)}`, 'k1', 'listed twice'],
    [`k1:${k(1)}`, 'k2', 'not among the keys (k1)'],
    [k(1), 'k1', 'must be id:base64'],
    ['', 'k1', 'not among the keys (none)'],
  ])('refuses %s active %s', (keys, active, message) => {
    expect(() => parseFrankingKeyring(keys, active)).toThrow(message);
  });
});
