module.exports = {
  preset: '../../jest.preset.js',
  displayName: 'client',
  rootDir: __dirname,
  testMatch: ['<rootDir>/src/**/*.spec.ts', '<rootDir>/test/**/*.spec.ts'],
  // The integration tests boot a whole stack and kill parts of it.
  testTimeout: 300_000,
};
