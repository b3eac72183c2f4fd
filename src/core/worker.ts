import { Worker } from 'node:worker_threads';

/**
 * Starts a worker thread from a module next to `base` (pass `import.meta.url`), named without
 * extension. From compiled JS it runs `<name>.js`; from TypeScript sources (tsx: tests, benches)
 * workers do not inherit tsx's loader hooks, so the worker registers them before importing `<name>.ts`.
 */
export function spawnModuleWorker(base: string, name: string, workerData: unknown): Worker {
  if (!base.endsWith('.ts')) return new Worker(new URL(`./${name}.js`, base), { workerData });
  const api = import.meta.resolve('tsx/esm/api');
  const body = new URL(`./${name}.ts`, base).href;
  const code = `import(${JSON.stringify(api)}).then((m) => { m.register(); return import(${JSON.stringify(body)}); });`;
  return new Worker(code, { eval: true, workerData });
}
