module.exports = {
  preset: '../../jest.preset.js',
  displayName: 'testing',
  rootDir: __dirname,
  testMatch: ['<rootDir>/src/**/*.spec.ts', '<rootDir>/test/**/*.spec.ts'],
  // Creates and drops databases on the shared PostgreSQL.
  testTimeout: 30_000,
};
