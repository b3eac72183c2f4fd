/** `agegender/queue`: batch prediction over many machines on a BullMQ queue in Redis (docs/scaling.md). */
export * from '../queue/index.js';
export type { QueueCounters } from '../queue/store.js';
