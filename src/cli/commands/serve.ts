/**
 * `agegender serve [--port 8080] [--host 127.0.0.1] [--model dir]`: the HTTP API and web page,
 * with the shipped model by default; prints the URL. Stops cleanly on SIGINT / SIGTERM.
 */
import { isIP } from 'node:net';
import { Option, type Command } from 'commander';
import { AgeGenderError } from '../../core/errors.js';
import { parseNumberOption } from '../../core/validate.js';
import { DEFAULT_MAX_FACES } from '../../pipeline/detector-names.js';
import { TRUST_PROXY_NAMES, type SecurityOptions } from '../../server/security.js';
import { DEFAULT_LIMITS } from '../../server/limits.js';
import { exitOnSignals, startServer } from '../../server/start.js';
import { addInferenceOptions, inferenceChoice, type InferenceCliOptions } from '../inference-options.js';

interface ServeCliOptions extends InferenceCliOptions {
  port: string;
  host: string;
  model?: string;
  detect: boolean;
  maxFaces: string;
  maxUploadMb: string;
  maxMegapixels: string;
  maxAspectRatio: string;
  timeout: string;
  queue: string;
  explainSamples: string;
  cors: string[];
  rateLimit?: string;
  allowedHosts?: string;
  trustProxy?: string;
  log?: boolean;
}

const LOOPBACK_NAMES = ['localhost', '127.0.0.1', '[::1]'];

/** `--cors` values: each must be an origin such as https://app.example (scheme, host, optional port). */
function parseOrigins(values: string[]): string[] {
  return values.map((v) => {
    let origin: string | null = null;
    try {
      origin = new URL(v).origin;
    } catch {
      origin = null;
    }
    if (origin === null || origin === 'null' || origin !== v.replace(/\/$/, '')) {
      throw new AgeGenderError('INVALID_ARGUMENT', `--cors ${v}: not an origin (expected scheme://host[:port], e.g. https://app.example)`);
    }
    return origin;
  });
}

/** `--rate-limit N/min` (or just N): requests per minute per client. */
function parseRateLimit(value: string | undefined): number {
  if (value === undefined) return 0;
  const m = /^\s*(\d+)\s*(?:\/\s*min)?\s*$/.exec(value);
  if (!m) throw new AgeGenderError('INVALID_ARGUMENT', `--rate-limit ${value}: expected N/min, e.g. 60/min`);
  return parseNumberOption(m[1]!, '--rate-limit', 1, 1_000_000, true);
}

/** `--allowed-hosts a,b` ('*': any); by default the loopback names when listening on loopback. */
function parseAllowedHosts(value: string | undefined, host: string): string[] {
  if (value === undefined) return LOOPBACK_NAMES.includes(host) || host === '::1' ? LOOPBACK_NAMES : [];
  if (value.trim() === '*') return [];
  return value.split(',').map((h) => h.trim().toLowerCase()).filter((h) => h.length > 0);
}

/** One `--trust-proxy` entry: an IP address, a CIDR subnet (address/prefix) or a range name. */
function isProxyAddress(entry: string): boolean {
  if (TRUST_PROXY_NAMES.includes(entry)) return true;
  const [address = '', prefix, ...rest] = entry.split('/');
  const family = isIP(address);
  if (family === 0 || rest.length > 0) return false;
  return prefix === undefined || (/^\d{1,3}$/.test(prefix) && Number(prefix) <= (family === 4 ? 32 : 128));
}

/** `--trust-proxy a,b`: the proxies' addresses, subnets or range names; none when absent. */
export function parseTrustProxy(value: string | undefined): string[] {
  if (value === undefined) return [];
  const entries = value.split(',').map((e) => e.trim().toLowerCase());
  for (const entry of entries) {
    if (!isProxyAddress(entry)) {
      throw new AgeGenderError('INVALID_ARGUMENT', `--trust-proxy ${value}: ${JSON.stringify(entry)} is not an IP address, a subnet (such as 10.0.0.0/8) or one of ${TRUST_PROXY_NAMES.join(', ')}`);
    }
  }
  return entries;
}

function securityOptions(opts: ServeCliOptions): SecurityOptions {
  return {
    corsOrigins: parseOrigins(opts.cors),
    rateLimitPerMinute: parseRateLimit(opts.rateLimit),
    allowedHosts: parseAllowedHosts(opts.allowedHosts, opts.host),
    trustProxy: parseTrustProxy(opts.trustProxy),
  };
}

/** Registers `agegender serve`. */
export function registerServeCommand(program: Command): void {
  const command = program
    .command('serve')
    .description('serve the HTTP API (POST /v1/predict, /v1/explain; GET /healthz, /openapi.json) and the web page at /')
    .option('--port <n>', 'port (0: any free port)', '8080')
    .option('--host <host>', 'interface to listen on', '127.0.0.1')
    .option('--model <dir>', 'model folder (default: the shipped model)')
    .option('--no-detect', 'do not load the face detector (aligned chips only, ?detect=false)')
    .option('--max-faces <n>', 'at most this many faces per photo (the highest-scoring)', String(DEFAULT_MAX_FACES))
    .option('--max-upload-mb <n>', 'largest upload, MB', String(DEFAULT_LIMITS.maxUploadBytes / 1024 / 1024))
    .option('--max-megapixels <n>', 'largest image, megapixels (width × height from its header)', String(DEFAULT_LIMITS.maxPixels / 1e6))
    .option('--max-aspect-ratio <n>', 'largest ratio of the longer to the shorter image side', '20')
    .option('--timeout <s>', 'request timeout, seconds', '30')
    .option('--queue <n>', 'requests allowed to wait before 503', '8')
    .option('--explain-samples <n>', 'LIME samples per explanation (0: no /v1/explain)', '200')
    .addOption(
      new Option('--cors <origin>', 'allow browser calls from this origin (repeat for more)')
        .argParser((v: string, all: string[]) => [...all, v])
        .default([] as string[], 'none'),
    )
    .option('--rate-limit <N/min>', 'API requests per minute per client IP (default: no limit)')
    .option('--allowed-hosts <names>', "host names the server answers to, comma-separated ('*': any; default on loopback: localhost,127.0.0.1,[::1])")
    .option(
      '--trust-proxy <addresses>',
      `reverse proxies whose X-Forwarded-For/-Host/-Proto are believed, comma-separated: IPs, subnets (10.0.0.0/8) or ${TRUST_PROXY_NAMES.join(', ')} (default: none; the client is the connection's peer)`,
    )
    .option('--log', 'log each request (JSON lines)');
  addInferenceOptions(command).action(async (opts: ServeCliOptions) => {
    const running = await startServer({
      port: parseNumberOption(opts.port, '--port', 0, 65535, true),
      host: opts.host,
      ...(opts.model === undefined ? {} : { modelDir: opts.model }),
      load: inferenceChoice(opts),
      detect: opts.detect,
      maxFaces: parseNumberOption(opts.maxFaces, '--max-faces', 1, 1000, true),
      explainSamples: parseNumberOption(opts.explainSamples, '--explain-samples', 0, 100_000, true),
      limits: {
        maxUploadBytes: Math.round(parseNumberOption(opts.maxUploadMb, '--max-upload-mb', 0.001, 1024) * 1024 * 1024),
        maxPixels: Math.round(parseNumberOption(opts.maxMegapixels, '--max-megapixels', 0.001, 1000) * 1e6),
        maxAspectRatio: parseNumberOption(opts.maxAspectRatio, '--max-aspect-ratio', 1, 1_000_000, true),
        requestTimeoutMs: Math.round(parseNumberOption(opts.timeout, '--timeout', 0.001, 3600) * 1000),
        maxQueued: parseNumberOption(opts.queue, '--queue', 0, 10_000, true),
      },
      security: securityOptions(opts),
      logger: opts.log ?? false,
    });
    process.stdout.write(`agegender: serving ${running.url}  (API: ${running.url}openapi.json; model on ${running.runtime}; Ctrl-C to stop)\n`);
    // In-flight requests get their full time limit, plus a little to close.
    exitOnSignals(running, Math.round(parseNumberOption(opts.timeout, '--timeout', 0.001, 3600) * 1000) + 5_000, (line) => process.stderr.write(`${line}\n`));
  });
}
