module.exports = {
  preset: '../../jest.preset.js',
  displayName: 'crypto',
  rootDir: __dirname,
  testMatch: ['<rootDir>/src/**/*.spec.ts', '<rootDir>/test/**/*.spec.ts'],
};
