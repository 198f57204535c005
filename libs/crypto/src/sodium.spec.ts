describe('cryptoReady and readySodium', () => {
  it('refuse libsodium before cryptoReady, then hand out the loaded module; cryptoReady is idempotent', async () => {
    await jest.isolateModulesAsync(async () => {
      const { cryptoReady, readySodium } = await import('./sodium');
      expect(() => readySodium('someFunction')).toThrow('@parley/crypto: await cryptoReady() before calling someFunction');
      await cryptoReady();
      await cryptoReady();
      const sodium = readySodium('someFunction');
      // The functions exist only once libsodium has loaded: the live module object, not a copy.
      expect(typeof sodium.crypto_sign_verify_detached).toBe('function');
      expect(sodium.crypto_sign_keypair().publicKey.length).toBe(32);
    });
  });
});
