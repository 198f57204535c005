import { parseUploadMetadata } from './upload-rules.js';

const digest = 'ab'.repeat(32);

describe('parseUploadMetadata', () => {
  it('takes the declared SHA-256 and the content-type hint, octet-stream when none is given', () => {
    expect(parseUploadMetadata({ sha256: digest, 'content-type': 'image/jpeg' })).toEqual({ sha256: digest, contentType: 'image/jpeg' });
    expect(parseUploadMetadata({ sha256: digest })).toEqual({ sha256: digest, contentType: 'application/octet-stream' });
  });

  it.each([undefined, {}, { sha256: null }, { sha256: 'AB'.repeat(32) }, { sha256: digest.slice(1) }, { sha256: `${digest}00` }])(
    'refuses a missing or malformed digest (%p) with 400 saying what to send',
    (metadata) => {
      expect(() => parseUploadMetadata(metadata as Record<string, string | null> | undefined)).toThrow(
        expect.objectContaining({ status_code: 400, body: expect.stringMatching(/must carry sha256/) }),
      );
    },
  );

  it('refuses a content-type that is not a media type, or too long', () => {
    for (const contentType of ['jpeg', 'image/jpeg; charset=x', `image/${'x'.repeat(100)}`]) {
      expect(() => parseUploadMetadata({ sha256: digest, 'content-type': contentType })).toThrow(expect.objectContaining({ status_code: 400 }));
    }
  });
});
