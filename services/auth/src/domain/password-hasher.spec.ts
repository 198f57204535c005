import { PasswordHasher } from './password-hasher.js';

describe('PasswordHasher', () => {
  it('verifies the password it hashed and nothing else, including past bcrypt’s 72-byte limit', async () => {
    const passwords = new PasswordHasher(4, 4);
    const long = 'p'.repeat(80);
    const hash = await passwords.hash(`${long}A`);
    await expect(passwords.verify(`${long}A`, hash)).resolves.toBe(true);
    await expect(passwords.verify(`${long}B`, hash)).resolves.toBe(false);
  });

  it('uses the configured cost', async () => {
    expect(await new PasswordHasher(12, 4).hash('whatever-password')).toMatch(/^\$2b\$12\$/);
  });
});
