export * from './cerebellum-io.js';
export * from './definitions.js';
export * from './messages.js';
export * from './pons-msgs.js';
export * from './qos.js';
export * from './rclnodejs.js';
export * from './time.js';
