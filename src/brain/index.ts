export * from './float16.js';
export * from './model-package.js';
export * from './preprocess.js';
export * from './prompt.js';
export * from './runtime.js';
