/** Renders every kustomize overlay and validates the objects offline (needs `kubectl`). */
module.exports = {
  preset: '../jest.preset.js',
  displayName: 'k8s',
  rootDir: __dirname,
  testMatch: ['<rootDir>/test/**/*.spec.ts'],
  resolver: '<rootDir>/jest-resolver.js',
  transformIgnorePatterns: ['/node_modules/(?!(kubernetes-models|@kubernetes-models|is-cidr|cidr-regex)/)'],
};
