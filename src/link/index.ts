export * from './certificates.js';
export * from './client.js';
export * from './counters.js';
export * from './endpoint.js';
export type { PeerHello } from './inbox.js';
export * from './log.js';
export * from './security.js';
export * from './server.js';
export { isCurveKey, z85Decode, z85Encode } from './z85.js';
