export * from './franking-keyring.js';
export * from './free-port.js';
export * from './health-check.js';
export * from './infra.js';
export * from './launcher.js';
export * from './services.js';
export * from './log-signing-key.js';
