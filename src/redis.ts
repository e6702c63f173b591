// `graph-call-machines/redis` (package.json exports): the code lives in src/redis/.
export * from './redis/index.js';
