/** The HTTP service: app factory, limits, error contract, schemas and the default explainer. */
export { buildServer, DEFAULT_LIMITS, type BuildServerOptions, type ExplainFn, type ExplanationLike, type ServerLimits } from './app.js';
export { HTTP_ERRORS, HTTP_ERROR_CODES, type HttpErrorCode, type HttpErrorBody } from './errors.js';
export { limeExplainer, SERVER_LIME_DEFAULTS } from './lime-explainer.js';
export { WorkQueue, type WorkQueueOptions, type WorkQueueStats } from './queue.js';
export * as schemas from './schemas.js';
