/**
 * `agegender queue submit|worker|status|results|clear`: batch prediction over many machines through a
 * BullMQ queue on Redis (src/queue/). Each subcommand parses its options, calls the library and
 * prints; docs/scaling.md says how to run it.
 */
import type { Command } from 'commander';
import { formatDuration } from '../../core/format.js';
import { oneOf, parseNumberOption } from '../../core/validate.js';
import type { QueueStatus } from '../../queue/index.js';
import { addInferenceOptions, inferenceChoice, type InferenceCliOptions } from '../inference-options.js';
import { wantsProgressBar } from '../progress.js';
import { count } from '../../core/format.js';
import { exitBySignal } from '../signal-exit.js';

const out = (line: string): void => void process.stdout.write(`${line}\n`);
const err = (line: string): void => void process.stderr.write(`${line}\n`);
const lib = (): Promise<typeof import('../../queue/index.js')> => import('../../queue/index.js');

interface QueueCliOptions {
  redis: string;
  queue: string;
}

function addQueueOptions(command: Command): Command {
  return command.requiredOption('--redis <url>', 'Redis server, redis://[user:password@]host:port[/db]').option('--queue <name>', 'queue name', 'agegender');
}

/** What to run next after a submit; the Redis password shown as *** (these lines end up in logs). */
export async function submitHints(redis: string, queue: string): Promise<string[]> {
  const url = (await lib()).redactRedisUrl(redis);
  return [
    `follow it:   agegender queue status --redis ${url} --queue ${queue}`,
    `run workers: agegender queue worker --redis ${url} --queue ${queue}   (on every machine that can read the images)`,
    `results:     agegender queue results --redis ${url} --queue ${queue} --out results.csv`,
  ];
}

async function submit(inputs: string[], opts: QueueCliOptions & { batch: string }): Promise<void> {
  const batch = parseNumberOption(opts.batch, '--batch', 1, 4096, true);
  const s = await (await lib()).submitImages(inputs, { redis: opts.redis, queue: opts.queue, batch });
  for (const m of s.missing) err(`error [UNREADABLE_FILE]: ${m.input}: ${m.reason} (not queued)`);
  const already = s.images - s.newImages;
  out(`queued ${count(s.newImages, 'image')} in ${count(s.newJobs, 'job')} of up to ${batch} on queue "${s.queue}"${already > 0 ? ` (${already} already queued, left out)` : ''}`);
  for (const line of await submitHints(opts.redis, s.queue)) out(line);
  if (s.missing.length > 0) process.exitCode = 1;
}

interface WorkerCliOptions extends QueueCliOptions, InferenceCliOptions {
  concurrency: string;
  detect: boolean;
  model?: string;
  batch: string;
  threads?: string;
  lockDuration: string;
  untilEmpty?: boolean;
}

/**
 * The worker's SIGTERM / SIGINT: the first finishes the job in hand, then stops (`close`); a second
 * stops at once (exit 128 + signal number), the job in hand going back to the queue when its lock
 * expires, as after a crash. Each says so on stderr: a worker waiting on an unreachable Redis
 * otherwise looks hung. Exported for tests.
 */
export function stopOnSignals(target: Pick<NodeJS.EventEmitter, 'on'>, close: () => void, err: (line: string) => void, exit: (code: number) => void): void {
  let stopping = false;
  const onSignal = (signal: 'SIGTERM' | 'SIGINT'): void => {
    if (stopping) {
      err(`${signal} again: stopping at once; the job in hand goes back to the queue when its lock expires`);
      exit(signal === 'SIGTERM' ? 143 : 130);
      return;
    }
    stopping = true;
    err(`${signal}: finishing the job in hand, then stopping (${signal === 'SIGINT' ? 'Ctrl-C' : 'SIGTERM'} again stops at once)`);
    close();
  };
  target.on('SIGTERM', () => onSignal('SIGTERM'));
  target.on('SIGINT', () => onSignal('SIGINT'));
}

async function worker(opts: WorkerCliOptions): Promise<void> {
  const started = performance.now();
  const w = await (await lib()).startQueueWorker({
    redis: opts.redis,
    queue: opts.queue,
    concurrency: parseNumberOption(opts.concurrency, '--concurrency', 1, 64, true),
    detect: opts.detect,
    batchSize: parseNumberOption(opts.batch, '--batch', 1, 1024, true),
    lockDurationMs: Math.round(parseNumberOption(opts.lockDuration, '--lock-duration', 0.5, 3600) * 1000),
    ...(opts.threads === undefined ? {} : { threads: parseNumberOption(opts.threads, '--threads', 1, 256, true) }),
    ...(opts.model === undefined ? {} : { modelDir: opts.model }),
    load: inferenceChoice(opts),
    untilEmpty: opts.untilEmpty === true,
    log: err,
  });
  err(`worker on queue "${opts.queue}" (network on ${w.runtime}); SIGTERM or Ctrl-C finishes the job in hand and stops; a second stops at once`);
  stopOnSignals(process, () => void w.close(), err, (code) => process.exit(code));
  await w.closed;
  const cpu = process.cpuUsage();
  const { jobs, images, failedImages } = w.stats;
  err(`worker stopped: ${count(jobs, 'job')}, ${count(images, 'image')}, ${failedImages} failed; ${((performance.now() - started) / 1000).toFixed(1)} s wall, ${((cpu.user + cpu.system) / 1e6).toFixed(1)} s CPU`);
}

/** The one-line status; a queue holding no images says so (a mistyped --queue, or results expired) instead of 0/0 for ever. */
export function statusLine(s: QueueStatus): string {
  if (s.images === 0 && s.waiting + s.active + s.delayed + s.failedJobs === 0) return `queue "${s.queue}" holds no images (nothing submitted to it yet, or its results expired after 7 days)`;
  const rate = s.imagesPerSecond === null ? '– images/s' : `${s.imagesPerSecond} images/s`;
  const eta = s.finished ? 'done' : s.etaSeconds === null ? 'ETA –' : `ETA ${formatDuration(s.etaSeconds)}`;
  return `${s.done}/${count(s.images, 'image')} (${s.failed} failed) | jobs: ${s.waiting} waiting, ${s.active} active, ${s.delayed} retrying, ${s.completed} completed, ${s.failedJobs} failed | ${rate} | ${eta}`;
}

async function status(opts: QueueCliOptions & { json?: boolean }): Promise<void> {
  const q = await lib();
  if (opts.json || !wantsProgressBar(process.stdout)) {
    const s = await q.queueStatus(opts);
    out(opts.json ? JSON.stringify(s, null, 2) : statusLine(s));
    return;
  }
  try {
    await q.watchQueue(opts, 1000, (s) => void process.stdout.write(`\r\x1b[2K${statusLine(s)}`));
  } finally {
    process.stdout.write('\n'); // an error (Redis gone) goes on a line of its own
  }
}

/**
 * Runs `write` with a signal that SIGINT / SIGTERM abort; the write is then given up (its temp file
 * removed: a results file of millions of rows is a large hidden file otherwise) and the process ends
 * as the signal would have. A second signal ends it at once. Exported for tests.
 */
export async function abortOnSignals<T>(write: (signal: AbortSignal) => Promise<T>, target: Pick<NodeJS.Process, 'on' | 'off'> = process, exit: (signal: NodeJS.Signals) => void = exitBySignal): Promise<T> {
  const stop = new AbortController();
  let caught: NodeJS.Signals | undefined;
  const onSignal = (signal: NodeJS.Signals): void => {
    if (caught) return exit(signal);
    caught = signal;
    stop.abort();
  };
  target.on('SIGINT', onSignal).on('SIGTERM', onSignal);
  try {
    return await write(stop.signal);
  } catch (error) {
    if (caught) exit(caught);
    throw error;
  } finally {
    target.off('SIGINT', onSignal).off('SIGTERM', onSignal);
  }
}

async function results(opts: QueueCliOptions & { out: string; format?: string; partial?: boolean }): Promise<void> {
  const q = await lib();
  const format = opts.format === undefined ? undefined : oneOf(opts.format, '--format', q.RESULT_FORMATS);
  const r = await abortOnSignals((signal) => q.writeQueueResults({ redis: opts.redis, queue: opts.queue, out: opts.out, partial: opts.partial === true, signal, ...(format === undefined ? {} : { format }) }));
  out(`${count(r.images, 'image')} written to ${r.out} (${r.format}): ${r.failed} failed${r.unfinished > 0 ? `, ${r.unfinished} not processed yet` : ''}`);
}

async function clear(opts: QueueCliOptions & { force?: boolean }): Promise<void> {
  const r = await (await lib()).clearQueue({ redis: opts.redis, queue: opts.queue, force: opts.force === true });
  out(`queue "${r.queue}" cleared: ${count(r.images, 'image')} in ${count(r.jobs, 'job')}, their results and bookkeeping removed from Redis`);
}

/** Registers `agegender queue` and its subcommands. */
export function registerQueueCommand(program: Command): void {
  const queue = program.command('queue').description('batch prediction over many machines: a BullMQ job queue on Redis (docs/scaling.md)');
  addQueueOptions(queue.command('submit').description('queue images in jobs; images already queued are left out').argument('<inputs...>', 'image files, folders, globs or http(s) URLs (paths must be readable by every worker)'))
    .option('--batch <n>', 'images per job', '64')
    .action(submit);
  const w = addQueueOptions(queue.command('worker').description('take jobs and predict (model loaded once), until stopped'))
    .option('--concurrency <n>', 'jobs in hand at once', '2')
    .option('--no-detect', 'skip face detection: each image is one aligned chip (as predict --no-detect)')
    .option('--model <dir>', 'model folder (default: the shipped model)')
    .option('--batch <n>', 'chips per forward batch with --no-detect', '32')
    .option('--threads <n>', 'onnxruntime threads (default: the physical cores)')
    .option('--lock-duration <seconds>', "how long a silent worker's job stays locked before another worker takes it over", '30')
    .option('--until-empty', 'stop once no job is waiting, retrying or active');
  addInferenceOptions(w).action(worker);
  addQueueOptions(queue.command('status').description('waiting / active / completed / failed jobs, images per second, ETA (a live line on a terminal)'))
    .option('--json', 'print one JSON document')
    .action(status);
  addQueueOptions(queue.command('results').description('one row per queued image, in input order, in the columns of predict --csv (or NDJSON)'))
    .requiredOption('--out <file>', 'results.csv or results.ndjson (written atomically)')
    .option('--format <csv|ndjson>', 'default: from the file name')
    .option('--partial', 'write even when some images are not processed yet (their rows say QUEUE_UNFINISHED)')
    .action(results);
  addQueueOptions(queue.command('clear').description("remove the queue from Redis: its jobs, results and list of images already queued (read the results first)"))
    .option('--force', 'clear even while jobs are waiting, running or retrying')
    .action(clear);
}
