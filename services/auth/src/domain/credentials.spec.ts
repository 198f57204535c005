import { Code } from '@connectrpc/connect';
import { connectErrorThrownBy } from '@parley/testing';
import { parseNewPassword, parseUsername } from './credentials.js';

describe('parseUsername', () => {
  it('normalises case, width and surrounding space', () => {
    expect(parseUsername('  Alice.Smith_1 ')).toBe('alice.smith_1');
    expect(parseUsername('ＡＬＩＣＥ')).toBe('alice');
  });

  it.each([
    ['', 'username is required'],
    ['ab', 'username must be at least 3 characters'],
    ['a'.repeat(33), 'username must be at most 32 characters'],
    ['a'.repeat(100_000), 'username must be at most 32 characters'],
    ['al ice', "username may contain only letters a-z, digits, '_' and '.'"],
    ['ali<ce>', "username may contain only letters a-z, digits, '_' and '.'"],
  ])('rejects %j with INVALID_ARGUMENT', (input, message) => {
    const err = connectErrorThrownBy(() => parseUsername(input));
    expect(err.code).toBe(Code.InvalidArgument);
    expect(err.rawMessage).toBe(message);
  });
});

describe('parseNewPassword', () => {
  it('accepts a long passphrase', () => {
    expect(parseNewPassword('correct horse battery', 'alice')).toBe('correct horse battery');
  });

  it.each([
    ['short', 'password must be at least 10 characters'],
    ['x'.repeat(257), 'password must be at most 256 characters'],
    ['abababababab', 'password is too repetitive: use at least 4 different characters'],
    ['my-alice-password', 'password must not contain the username'],
    ['password123', 'password is too common: choose another'],
    ['QWERTYUIOP', 'password is too common: choose another'],
    ['ｂａｓｋｅｔｂａｌｌ', 'password is too common: choose another'],
  ])('rejects %j', (input, message) => {
    const err = connectErrorThrownBy(() => parseNewPassword(input, 'alice'));
    expect(err.code).toBe(Code.InvalidArgument);
    expect(err.rawMessage).toBe(message);
  });
});
