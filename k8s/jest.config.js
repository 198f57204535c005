/** Renders every kustomize overlay and validates the objects offline (needs `kubectl`). */
module.exports = {
  preset: '../jest.preset.js',
  displayName: 'k8s',
  rootDir: __dirname,
  testMatch: ['<rootDir>/test/**/*.spec.ts'],
};
