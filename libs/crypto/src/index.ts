export * from './signal-keys.js';
export * from './xeddsa.js';
export * from './merkle-log.js';
export * from './tree-head.js';
export * from './identity-log.js';
export * from './link-verification.js';
export * from './franking.js';
export * from './reporting-tag.js';
