/** `agegender/server`: the HTTP API and web page. */
export * from '../server/app.js';
export * from '../server/start.js';
export * from '../server/limits.js';
export * from '../server/lime-explainer.js';
export type { SecurityOptions } from '../server/security.js';
