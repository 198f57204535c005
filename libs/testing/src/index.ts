export * from './run-id.js';
export * from './isolation.js';
export * from './test-stack.js';
export * from './expectations.js';
export * from './service-exit.js';
export * from './manual-clock.js';
export * from './accounts.js';
export * from './projections.js';
