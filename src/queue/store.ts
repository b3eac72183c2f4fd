/**
 * The queue's own bookkeeping in Redis, next to BullMQ's: job order (input order), the digests of
 * images already queued, counters, and each job's results. Writes that must not double-count are
 * single Lua scripts (atomic in Redis), so a job recorded twice — a worker presumed dead that
 * finished after all, a command re-sent after a Redis restart — counts once. Every write refreshes
 * the keys' TTL.
 *
 * @example
 *   const store = queueStore(redis, 'agegender', QUEUE_DEFAULTS.ttlSeconds);
 *   const added = await store.registerJobs([{ id, images: 64 }]);
 */
import type { Redis } from 'ioredis';
import { queueKeys, type QueueKeys } from './defaults.js';

const REFRESH = `for _, k in ipairs(KEYS) do redis.call('EXPIRE', k, ARGV[1]) end`;

// KEYS: order, stats, seen, results. ARGV: ttl, then id, image count pairs. Returns the ids added.
const REGISTER = `
local added = {}
for i = 2, #ARGV, 2 do
  local seq = redis.call('HINCRBY', KEYS[2], 'seq', 1)
  if redis.call('ZADD', KEYS[1], 'NX', seq, ARGV[i]) == 1 then
    redis.call('HINCRBY', KEYS[2], 'images', ARGV[i + 1])
    redis.call('HINCRBY', KEYS[2], 'jobs', 1)
    added[#added + 1] = ARGV[i]
  end
end
${REFRESH}
return added`;

// KEYS: order, stats, seen, results. ARGV: ttl, id, encoded results, images, failed images, now (ms).
// The first record stands: a job that ran and was recorded, then lost its lock and was failed for
// stalling, keeps its rows (its JOB_FAILED record would replace them, the counters saying otherwise).
const RECORD = `
if redis.call('HSETNX', KEYS[4], ARGV[2], ARGV[3]) == 1 then
  redis.call('HINCRBY', KEYS[2], 'done', ARGV[4])
  redis.call('HINCRBY', KEYS[2], 'failed', ARGV[5])
  redis.call('HINCRBY', KEYS[2], 'jobsDone', 1)
end
redis.call('HSETNX', KEYS[2], 'startedAt', ARGV[6])
redis.call('HSET', KEYS[2], 'lastAt', ARGV[6])
${REFRESH}
return 1`;

export interface QueueCounters {
  /** Images queued (all submits). */
  images: number;
  jobs: number;
  /** Images with a recorded result (predicted or failed). */
  done: number;
  /** Of those, images that failed. */
  failed: number;
  jobsDone: number;
  /** When the first worker started its first job, and when the last result was recorded (ms since 1970), or null. */
  startedAt: number | null;
  lastAt: number | null;
}

export interface QueueStore {
  readonly keys: QueueKeys;
  /** Which digests are already queued. */
  seen(digests: readonly Buffer[]): Promise<boolean[]>;
  markSeen(digests: readonly Buffer[]): Promise<void>;
  /** Appends jobs to the order (those not there yet); returns the ids that were new. */
  registerJobs(jobs: ReadonlyArray<{ id: string; images: number }>): Promise<string[]>;
  /** Stores a job's results and counts them (once per job, however often it is recorded: the first record stands). */
  recordResults(id: string, encoded: Buffer, images: number, failed: number): Promise<void>;
  /** Notes when work began (first call wins). */
  markStarted(): Promise<void>;
  counters(): Promise<QueueCounters>;
  /** Job ids in input order, `start`…`stop` inclusive (ranks). */
  jobIds(start: number, stop: number): Promise<string[]>;
  /** Each id's encoded results, or null when it has none yet. */
  results(ids: readonly string[]): Promise<Array<Buffer | null>>;
}

export function queueStore(redis: Redis, queue: string, ttlSeconds: number): QueueStore {
  const keys = queueKeys(queue);
  const all = [keys.order, keys.stats, keys.seen, keys.results];
  const ttl = String(Math.round(ttlSeconds));
  return {
    keys,
    async seen(digests) {
      const out: boolean[] = [];
      for (let start = 0; start < digests.length; start += 10_000) {
        const flags = (await redis.smismember(keys.seen, ...digests.slice(start, start + 10_000))) as number[];
        for (const f of flags) out.push(f === 1);
      }
      return out;
    },
    async markSeen(digests) {
      if (digests.length === 0) return;
      await redis.multi().sadd(keys.seen, ...digests).expire(keys.seen, Number(ttl)).exec();
    },
    async registerJobs(jobs) {
      if (jobs.length === 0) return [];
      return (await redis.eval(REGISTER, all.length, ...all, ttl, ...jobs.flatMap((j) => [j.id, String(j.images)]))) as string[];
    },
    async recordResults(id, encoded, images, failed) {
      await redis.eval(RECORD, all.length, ...all, ttl, id, encoded, String(images), String(failed), String(Date.now()));
    },
    async markStarted() {
      await redis.hsetnx(keys.stats, 'startedAt', String(Date.now()));
    },
    async counters() {
      const h = await redis.hgetall(keys.stats);
      const n = (k: string): number => Number(h[k] ?? 0);
      const t = (k: string): number | null => (h[k] === undefined ? null : Number(h[k]));
      return { images: n('images'), jobs: n('jobs'), done: n('done'), failed: n('failed'), jobsDone: n('jobsDone'), startedAt: t('startedAt'), lastAt: t('lastAt') };
    },
    async jobIds(start, stop) {
      return redis.zrange(keys.order, start, stop);
    },
    async results(ids) {
      if (ids.length === 0) return [];
      return redis.hmgetBuffer(keys.results, ...ids);
    },
  };
}
