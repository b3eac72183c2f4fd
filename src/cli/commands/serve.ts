/**
 * `agegender serve [--port 8080] [--host 127.0.0.1] [--model dir]`: the HTTP API and web page,
 * with the shipped model by default; prints the URL. Stops cleanly on SIGINT / SIGTERM.
 */
import type { Command } from 'commander';
import type { FastifyInstance } from 'fastify';
import { parseNumberOption } from '../../core/validate.js';
import type { AgeGenderModel } from '../../model/api.js';
import type { InferenceChoice } from '../../model/index.js';
import { addInferenceOptions, inferenceChoice, type InferenceCliOptions } from '../inference-options.js';
import type { FaceDetector } from '../../pipeline/detect.js';
import type { ServerLimits } from '../../server/app.js';

export interface StartServerOptions {
  port?: number;
  host?: string;
  modelDir?: string;
  /** Inference runtime and flip test-time augmentation for the model loaded from `modelDir`. */
  load?: InferenceChoice;
  /** Injected model (tests, benches); loaded from `modelDir` otherwise and disposed on close. */
  model?: AgeGenderModel;
  /** Load the face detector (default true). */
  detect?: boolean;
  /** LIME samples per explanation (default 200); 0 turns /v1/explain off. */
  explainSamples?: number;
  limits?: Partial<ServerLimits>;
  logger?: boolean;
}

export interface RunningServer {
  app: FastifyInstance;
  url: string;
  /** What runs the network (`model.runtime`). */
  runtime: string;
  close(): Promise<void>;
}

/** Loads what is needed, builds the app and listens. */
export async function startServer(options: StartServerOptions = {}): Promise<RunningServer> {
  const [{ buildServer }, { limeExplainer }, { loadFaceDetector }] = await Promise.all([
    import('../../server/app.js'),
    import('../../server/lime-explainer.js'),
    import('../../pipeline/detect.js'),
  ]);
  const model = options.model ?? (await (await import('../../model/load.js')).loadModelFrom(options.modelDir, options.load));
  let detector: FaceDetector | null = null;
  try {
    detector = options.detect === false ? null : await loadFaceDetector();
    const samples = options.explainSamples ?? 200;
    const app = await buildServer({
      model,
      detector,
      explain: samples > 0 ? limeExplainer({ samples }) : null,
      ...(options.limits ? { limits: options.limits } : {}),
      logger: options.logger ?? false,
    });
    await app.listen({ port: options.port ?? 8080, host: options.host ?? '127.0.0.1' });
    const address = app.server.address();
    const port = typeof address === 'object' && address ? address.port : (options.port ?? 8080);
    const host = options.host ?? '127.0.0.1';
    const url = `http://${host.includes(':') ? `[${host}]` : host}:${port}/`;
    const held = detector;
    return {
      app,
      url,
      runtime: model.runtime,
      async close() {
        await app.close();
        held?.dispose();
        if (!options.model) model.dispose();
      },
    };
  } catch (error) {
    detector?.dispose();
    if (!options.model) model.dispose();
    throw error;
  }
}

interface ServeCliOptions extends InferenceCliOptions {
  port: string;
  host: string;
  model?: string;
  detect: boolean;
  maxUploadMb: string;
  maxMegapixels: string;
  maxAspectRatio: string;
  timeout: string;
  queue: string;
  explainSamples: string;
  log?: boolean;
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
    .option('--max-upload-mb <n>', 'largest upload, MB', '10')
    .option('--max-megapixels <n>', 'largest decoded image, megapixels', '40')
    .option('--max-aspect-ratio <n>', 'largest ratio of the longer to the shorter image side', '20')
    .option('--timeout <s>', 'request timeout, seconds', '30')
    .option('--queue <n>', 'requests allowed to wait before 503', '8')
    .option('--explain-samples <n>', 'LIME samples per explanation (0: no /v1/explain)', '200')
    .option('--log', 'log each request (JSON lines)');
  addInferenceOptions(command).action(async (opts: ServeCliOptions) => {
    const running = await startServer({
      port: parseNumberOption(opts.port, '--port', 0, 65535, true),
      host: opts.host,
      ...(opts.model === undefined ? {} : { modelDir: opts.model }),
      load: inferenceChoice(opts),
      detect: opts.detect,
      explainSamples: parseNumberOption(opts.explainSamples, '--explain-samples', 0, 100_000, true),
      limits: {
        maxUploadBytes: Math.round(parseNumberOption(opts.maxUploadMb, '--max-upload-mb', 0.001, 1024) * 1024 * 1024),
        maxPixels: Math.round(parseNumberOption(opts.maxMegapixels, '--max-megapixels', 0.001, 1000) * 1e6),
        maxAspectRatio: parseNumberOption(opts.maxAspectRatio, '--max-aspect-ratio', 1, 1_000_000, true),
        requestTimeoutMs: Math.round(parseNumberOption(opts.timeout, '--timeout', 0.001, 3600) * 1000),
        maxQueued: parseNumberOption(opts.queue, '--queue', 0, 10_000, true),
      },
      logger: opts.log ?? false,
    });
    process.stdout.write(`agegender: serving ${running.url}  (API: ${running.url}openapi.json; model on ${running.runtime}; Ctrl-C to stop)\n`);
    const stop = (): void => {
      running.close().then(
        () => process.exit(0),
        () => process.exit(1),
      );
    };
    process.once('SIGINT', stop);
    process.once('SIGTERM', stop);
  });
}
