import { isCommonPassword } from './common-passwords.js';

describe('isCommonPassword', () => {
  it.each(['qwertyuiop', 'password123', 'basketball', '1q2w3e4r5t'])('knows %j', (password) => {
    expect(isCommonPassword(password)).toBe(true);
  });

  it('ignores case and compatibility forms (NFKC)', () => {
    expect(isCommonPassword('PassWord123')).toBe(true);
    // Fullwidth letters and digits normalise to their ASCII forms.
    expect(isCommonPassword('ｐａｓｓｗｏｒｄ１２３')).toBe(true);
  });

  it('passes a passphrase that is not on the list', () => {
    expect(isCommonPassword('correct horse battery')).toBe(false);
  });
});
