module.exports = {
  preset: '../jest.preset.js',
  displayName: 'e2e',
  rootDir: __dirname,
  testMatch: ['<rootDir>/test/**/*.spec.ts'],
  // A hook that boots a stack may wait TEST_STACK_START_MS (180 s) for it on a busy box.
  testTimeout: 240_000,
};
