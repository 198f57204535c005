module.exports = {
  preset: '../../jest.preset.js',
  displayName: 'moderation',
  rootDir: __dirname,
  testMatch: ['<rootDir>/src/**/*.spec.ts', '<rootDir>/test/**/*.spec.ts'],
  // test/ runs services as processes against PostgreSQL and NATS: jest's 5 s is too little on a busy machine.
  testTimeout: 60_000,
};
