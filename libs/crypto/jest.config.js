module.exports = {
  preset: '../../jest.preset.js',
  displayName: 'crypto',
  rootDir: __dirname,
  testMatch: ['<rootDir>/src/**/*.spec.ts', '<rootDir>/test/**/*.spec.ts'],
  // The Merkle proof checks take about a second each on an idle machine, several on a busy one.
  testTimeout: 30_000,
};
