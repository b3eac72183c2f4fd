/**
 * Redis connections for the queue. `connectQueueRedis` first probes the server with a connection
 * that gives up at once (so an unreachable Redis is a QUEUE_UNAVAILABLE error in seconds, not a
 * hang), then returns the long-lived connection BullMQ needs, which reconnects for ever (a Redis
 * restart mid-run is waited out). `withQueueSession` is the connection of a command that runs once
 * (submit, status, results, clear): it gives up when Redis goes away mid-command.
 *
 * @example
 *   const redis = await connectQueueRedis('redis://127.0.0.1:6379');
 *   const queue = new Queue('agegender', { connection: redis });
 */
import { Queue, type QueueOptions } from 'bullmq';
import { Redis, type RedisOptions } from 'ioredis';
import { AgeGenderError, reasonOf } from '../core/errors.js';
import { describe } from '../core/validate.js';
import { QUEUE_DEFAULTS } from './defaults.js';

/** The URL without its password, for messages. */
export function redactRedisUrl(url: string): string {
  try {
    const u = new URL(url);
    if (u.password) u.password = '***';
    return u.toString();
  } catch {
    return url.replace(/^(\w+:\/\/[^:@/]*:)[^@/]*@/, '$1***@'); // not parseable: hide what sits where a password would
  }
}

/**
 * Checks `redis://` / `rediss://` URLs: a host, a numeric port if any, and a database number if
 * any (`/2`); anything else is INVALID_ARGUMENT naming the URL (password hidden).
 */
export function redisUrl(value: unknown): string {
  const expected = 'Expected a redis:// or rediss:// URL for --redis but received';
  if (typeof value !== 'string' || !/^rediss?:\/\/[^/\s]+/.test(value)) throw new AgeGenderError('INVALID_ARGUMENT', `${expected} ${describe(value)}`);
  let url: URL;
  try {
    url = new URL(value);
  } catch {
    throw new AgeGenderError('INVALID_ARGUMENT', `${expected} "${redactRedisUrl(value)}" (not a valid URL: bad port or host?)`);
  }
  if (!/^(\/\d*)?$/.test(url.pathname)) throw new AgeGenderError('INVALID_ARGUMENT', `${expected} "${redactRedisUrl(value)}" (the path must be a database number, such as /0)`);
  return value;
}

/** Resolves when Redis answers PING within `timeoutMs`; else QUEUE_UNAVAILABLE naming the server. */
export async function probeRedis(url: string, timeoutMs: number = QUEUE_DEFAULTS.connectTimeoutMs): Promise<void> {
  const probe = new Redis(redisUrl(url), { lazyConnect: true, connectTimeout: timeoutMs, maxRetriesPerRequest: 0, retryStrategy: () => null, enableOfflineQueue: false, disconnectTimeout: 0 });
  // disconnectTimeout 0: the socket is closed at once; ioredis's default (2 s) kept a process whose server never answered alive that much longer
  let cause: Error | undefined; // ioredis reports the socket's error (ECONNREFUSED …) here, then rejects with "Connection is closed."
  probe.on('error', (e: Error) => (cause ??= e));
  const timer = new Promise<never>((_, reject) => setTimeout(() => reject(new Error(`no answer within ${timeoutMs} ms`)), timeoutMs + 500).unref());
  try {
    await Promise.race([probe.connect().then(() => probe.ping()), timer]);
    // a refused SELECT (database number out of range) is only an 'error' event: the connection stays on database 0
    if (cause) throw cause;
  } catch (error) {
    const why = reasonOf(cause ?? error) || 'no connection';
    throw new AgeGenderError('QUEUE_UNAVAILABLE', `cannot reach Redis: ${why}`, { subject: redactRedisUrl(url), cause: cause ?? error });
  } finally {
    probe.disconnect();
  }
}

/**
 * Probes `url`, then opens the connection BullMQ uses (`maxRetriesPerRequest: null`: commands wait
 * for a reconnect instead of failing). `onError` hears connection errors (default: ignored; ioredis
 * reconnects by itself).
 */
export async function connectQueueRedis(url: string, onError: (error: Error) => void = () => undefined, extra: RedisOptions = {}): Promise<Redis> {
  await probeRedis(url);
  const redis = new Redis(url, { maxRetriesPerRequest: null, connectTimeout: QUEUE_DEFAULTS.connectTimeoutMs, retryStrategy: (times) => Math.min(times * 200, 2000), ...extra });
  redis.on('error', onError);
  return redis;
}

/** What a command that runs once works with: a connection and the BullMQ queue on it. */
export interface QueueSession {
  redis: Redis;
  queue: Queue;
}

/** ioredis gave up on a command: the connection was lost and its reconnect tries ran out. */
function isConnectionLost(error: unknown): boolean {
  return error instanceof Error && (error.name === 'MaxRetriesPerRequestError' || error.message === 'Connection is closed.');
}

/**
 * Probes `url`, runs `fn` with a connection and the queue `name`, then closes both. Unlike a worker's,
 * this connection gives up: when Redis goes away mid-command and `QUEUE_DEFAULTS.commandRetries`
 * reconnect tries fail (about 11 s), it is QUEUE_UNAVAILABLE naming the server and the last
 * connection error, not a silent wait for ever. Connection errors are kept for that message, never
 * printed (BullMQ prints an 'error' event that has no listener, stack and all).
 */
export async function withQueueSession<T>(url: string, name: string, fn: (session: QueueSession) => Promise<T>, queueOptions: Omit<QueueOptions, 'connection'> = {}): Promise<T> {
  let cause: Error | undefined;
  const redis = await connectQueueRedis(url, (e) => (cause = e), { maxRetriesPerRequest: QUEUE_DEFAULTS.commandRetries });
  const queue = new Queue(name, { ...queueOptions, connection: redis });
  queue.on('error', (e) => (cause ??= e));
  try {
    return await fn({ redis, queue });
  } catch (error) {
    if (!isConnectionLost(error)) throw error;
    throw new AgeGenderError('QUEUE_UNAVAILABLE', `lost the connection to Redis: ${reasonOf(cause ?? error) || 'connection closed'} (gave up after ${QUEUE_DEFAULTS.commandRetries} reconnect tries)`, { subject: redactRedisUrl(url), cause: error });
  } finally {
    await queue.close().catch(() => undefined);
    redis.disconnect();
  }
}
