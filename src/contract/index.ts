export * from './action-spec.js';
export * from './camera-info.js';
export * from './canonical-json.js';
export * from './errors.js';
export * from './files.js';
export * from './schema-error.js';
export * from './statistics.js';
export * from './urdf.js';
