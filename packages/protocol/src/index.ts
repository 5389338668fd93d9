export * from './bridge.js';
export * from './backoff.js';
