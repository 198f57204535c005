import { randomBytes } from 'node:crypto';
import { timestampMs } from '@bufbuild/protobuf/wkt';
import { parseFrankingKeyring, verifyReportingTag } from '@parley/crypto';
import { ReportingTagger } from './reporting-tags.js';

const k1 = randomBytes(32).toString('base64');
const k2 = randomBytes(32).toString('base64');
const delivery = {
  senderUserId: '0b7c4f4e-52a1-4a4e-9d0a-6f1d2c3b4a59',
  senderDeviceId: 1,
  recipientUserId: '6a1e2d3c-4b5a-4c6d-8e7f-901a2b3c4d5e',
  recipientDeviceId: 3,
  conversationId: '2f3e4d5c-6b7a-4890-a1b2-c3d4e5f6a7b8',
  messageId: '9e8d7c6b-5a49-4382-b1a0-f9e8d7c6b5a4',
  serverTime: new Date('2026-12-08T01:02:03.456Z'),
};
const commitment = randomBytes(32);
const contextOf = (tag: ReturnType<ReportingTagger['tag']>) => ({ ...tag, serverTimeMs: BigInt(timestampMs(tag.serverTime!)) });

describe('ReportingTagger', () => {
  it('tags under the active key, with the context the tag covers beside it', () => {
    const keyring = parseFrankingKeyring(`k1:${k1}`, 'k1');
    const tag = new ReportingTagger(keyring).tag(commitment, delivery);
    const { serverTime, ...ids } = delivery;
    expect(tag).toMatchObject({ keyId: 'k1', commitment, ...ids });
    expect(timestampMs(tag.serverTime!)).toBe(serverTime.getTime());
    expect(verifyReportingTag(keyring.keys.get('k1')!, contextOf(tag), tag.tag)).toBe(true);
    expect(verifyReportingTag(keyring.keys.get('k1')!, { ...contextOf(tag), senderDeviceId: 2 }, tag.tag)).toBe(false);
  });

  it('after a rotation tags under the new key, and a tag made before still verifies under the old one', () => {
    const before = new ReportingTagger(parseFrankingKeyring(`k1:${k1}`, 'k1')).tag(commitment, delivery);
    const rotated = parseFrankingKeyring(`k1:${k1},k2:${k2}`, 'k2');
    const after = new ReportingTagger(rotated).tag(commitment, delivery);
    expect(after.keyId).toBe('k2');
    expect(verifyReportingTag(rotated.keys.get('k2')!, contextOf(after), after.tag)).toBe(true);
    expect(verifyReportingTag(rotated.keys.get(before.keyId)!, contextOf(before), before.tag)).toBe(true);
    expect(Buffer.from(after.tag).equals(Buffer.from(before.tag))).toBe(false);
  });
});
