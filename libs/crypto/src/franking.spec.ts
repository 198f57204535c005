import { createHmac } from 'node:crypto';
import { FRANKING_KEY_BYTES, frankingCommitment, newFrankingKey, openFrankingCommitment } from './franking.js';

const utf8 = (s: string) => new TextEncoder().encode(s);

describe('franking commitments', () => {
  it('is HMAC-SHA256(franking key, plaintext)', async () => {
    const key = newFrankingKey();
    const expected = createHmac('sha256', key).update('hello').digest();
    expect(Buffer.from(await frankingCommitment(key, utf8('hello')))).toEqual(expected);
  });

  it('opens only with the same key and plaintext', async () => {
    const key = newFrankingKey();
    const commitment = await frankingCommitment(key, utf8('meet at 6'));
    await expect(openFrankingCommitment(key, utf8('meet at 6'), commitment)).resolves.toBe(true);
    await expect(openFrankingCommitment(key, utf8('meet at 7'), commitment)).resolves.toBe(false);
    await expect(openFrankingCommitment(newFrankingKey(), utf8('meet at 6'), commitment)).resolves.toBe(false);
  });

  it('refuses keys and commitments of the wrong size', async () => {
    await expect(frankingCommitment(new Uint8Array(16), utf8('x'))).rejects.toThrow(`${FRANKING_KEY_BYTES} bytes`);
    const key = newFrankingKey();
    await expect(openFrankingCommitment(key, utf8('x'), new Uint8Array(31))).resolves.toBe(false);
    await expect(openFrankingCommitment(new Uint8Array(31), utf8('x'), new Uint8Array(32))).resolves.toBe(false);
  });

  it('draws a fresh key each time', () => {
    expect(Buffer.from(newFrankingKey())).not.toEqual(Buffer.from(newFrankingKey()));
  });
});
