export * from './approximate-time.js';
export * from './gate.js';
export * from './synchronize.js';
