// kubernetes-models 5 and the packages under it are ESM whose exports name only the `import`
// condition, which Jest's CommonJS mode does not ask for: resolve those with it (jest.config.js
// has them transformed to CommonJS like our own code).
const ESM_ONLY = /^(kubernetes-models|@kubernetes-models\/[^/]+|is-cidr|cidr-regex)(\/|$)/;
module.exports = (request, options) =>
  options.defaultResolver(request, ESM_ONLY.test(request) ? { ...options, conditions: ['import', 'node', 'default'] } : options);
