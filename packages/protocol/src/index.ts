export * from './bridge.js';
export * from './backoff.js';
export * from './reasoning.js';
export * from './byo-crypto.js';
export * from './webchannel.js';
export * from './webchannel-e2e.js';
