module.exports = {
  preset: '../../jest.preset.js',
  displayName: 'platform',
  rootDir: __dirname,
  testMatch: ['<rootDir>/src/**/*.spec.ts', '<rootDir>/test/**/*.spec.ts'],
  // test/ talks to PostgreSQL and NATS (and starts throwaway nats-servers): 5 s is too little on a busy machine.
  testTimeout: 60_000,
};
