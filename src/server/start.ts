/**
 * Starts the HTTP API and web page (what `agegender serve` runs): loads the model (unless one is
 * given) and the face detector, builds the app and listens; `close()` frees what it loaded.
 *
 * @example
 *   const running = await startServer({ port: 0, explainSamples: 0 });
 *   console.log(running.url);
 *   await running.close();
 */
import type { FastifyInstance } from 'fastify';
import { AgeGenderError } from '../core/errors.js';
import type { AgeGenderModel } from '../model/api.js';
import type { InferenceChoice } from '../model/index.js';
import type { FaceDetector } from '../pipeline/detect.js';
import type { ServerLimits } from './limits.js';
import type { SecurityOptions } from './security.js';

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
  /** At most this many faces per photo (default: the detector's, 32). */
  maxFaces?: number;
  /** LIME samples per explanation (default 200); 0 turns /v1/explain off. */
  explainSamples?: number;
  limits?: Partial<ServerLimits>;
  /** CORS origins, rate limit, Host allow-list. */
  security?: SecurityOptions;
  logger?: boolean;
}

export interface RunningServer {
  app: FastifyInstance;
  url: string;
  /** What runs the network (`model.runtime`). */
  runtime: string;
  close(): Promise<void>;
}

/** A failed listen as an error that says what to change: a port in use, or one that needs privileges. */
export function listenError(error: unknown, host: string, port: number): unknown {
  const code = (error as NodeJS.ErrnoException | null)?.code;
  const subject = `${host.includes(':') ? `[${host}]` : host}:${port}`;
  if (code === 'EADDRINUSE') {
    return new AgeGenderError('INVALID_ARGUMENT', `port ${port} is already in use (another server is listening there): choose another with --port, or --port 0 for any free port`, { subject, cause: error });
  }
  if (code === 'EACCES') {
    return new AgeGenderError('INVALID_ARGUMENT', `permission denied: port ${port} needs privileges on this system; use a port above 1023`, { subject, cause: error });
  }
  if (code === 'EADDRNOTAVAIL' || code === 'ENOTFOUND') {
    return new AgeGenderError('INVALID_ARGUMENT', `cannot listen on ${host}: no such address on this machine (--host)`, { subject, cause: error });
  }
  return error;
}

/** Loads what is needed, builds the app and listens. */
export async function startServer(options: StartServerOptions = {}): Promise<RunningServer> {
  const [{ buildServer }, { limeExplainer }, { loadFaceDetector }] = await Promise.all([
    import('./app.js'),
    import('./lime-explainer.js'),
    import('../pipeline/detect.js'),
  ]);
  const model = options.model ?? (await (await import('../model/load.js')).loadModelFrom(options.modelDir, options.load));
  let detector: FaceDetector | null = null;
  try {
    detector = options.detect === false ? null : await loadFaceDetector(options.maxFaces === undefined ? {} : { maxFaces: options.maxFaces });
    const samples = options.explainSamples ?? 200;
    const app = await buildServer({
      model,
      detector,
      explain: samples > 0 ? limeExplainer({ samples }) : null,
      ...(options.limits ? { limits: options.limits } : {}),
      ...(options.security ? { security: options.security } : {}),
      logger: options.logger ?? false,
    });
    try {
      await app.listen({ port: options.port ?? 8080, host: options.host ?? '127.0.0.1' });
    } catch (error) {
      await app.close();
      throw listenError(error, options.host ?? '127.0.0.1', options.port ?? 8080);
    }
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

/**
 * Graceful shutdown on SIGTERM / SIGINT: stop accepting connections and close the idle ones, let
 * in-flight requests finish (a request still arriving on a busy connection gets 503 SHUTTING_DOWN),
 * release the model, then exit 0. If
 * that takes longer than `boundMs`, or a second signal comes, exit 1 at once.
 */
export function exitOnSignals(running: RunningServer, boundMs: number, say: (line: string) => void): void {
  let stopping = false;
  const stop = (signal: string): void => {
    if (stopping) {
      say(`agegender: ${signal} again: exiting without waiting`);
      process.exit(1);
    }
    stopping = true;
    say(`agegender: ${signal}: finishing requests in flight (at most ${Math.round(boundMs / 1000)} s)`);
    const timer = setTimeout(() => {
      say(`agegender: requests still running after ${Math.round(boundMs / 1000)} s: exiting`);
      process.exit(1);
    }, boundMs);
    timer.unref();
    running.close().then(
      () => process.exit(0),
      () => process.exit(1),
    );
  };
  process.on('SIGINT', () => stop('SIGINT'));
  process.on('SIGTERM', () => stop('SIGTERM'));
}
