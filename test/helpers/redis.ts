/**
 * A real `redis-server` for the queue tests: started on a free loopback port in a temporary folder
 * with persistence on (`appendonly yes`, fsync every write so a restart loses nothing), stopped
 * with SIGTERM (Redis writes its data before it exits), restartable on the same port and folder.
 * Debian's `redis-server` must be on PATH (`.ci/run` installs it).
 *
 * @example
 *   const redis = await startRedis();
 *   // … agegender queue submit --redis redis.url …
 *   await redis.restart();
 *   await redis.stop();
 */
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

export interface RedisServer {
  url: string;
  port: number;
  dir: string;
  /** Stops the server (SIGTERM: it saves and exits) and starts it again on the same port and folder, `downMs` later (default at once). */
  restart(downMs?: number): Promise<void>;
  /** Stops the server and removes its folder. */
  stop(): Promise<void>;
}

/** True when a `redis-server` binary is on PATH. */
export function hasRedisServer(): boolean {
  return spawnSync('redis-server', ['--version'], { encoding: 'utf8' }).status === 0;
}

/** A port the kernel just handed out on 127.0.0.1 (free at that moment). */
export async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.unref();
    server.on('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const address = server.address();
      server.close(() => (typeof address === 'object' && address ? resolve(address.port) : reject(new Error('no port'))));
    });
  });
}

function launch(port: number, dir: string, fsync: 'always' | 'everysec'): Promise<ChildProcess> {
  const args = ['--port', String(port), '--bind', '127.0.0.1', '--dir', dir, '--appendonly', 'yes', '--appendfsync', fsync, '--save', '', '--daemonize', 'no'];
  const child = spawn('redis-server', args, { stdio: ['ignore', 'pipe', 'pipe'] });
  return new Promise((resolve, reject) => {
    let log = '';
    const timer = setTimeout(() => {
      child.kill('SIGKILL');
      reject(new Error(`redis-server did not start on port ${port} within 20 s: ${log}`));
    }, 20_000);
    const onData = (chunk: Buffer): void => {
      log += chunk.toString();
      if (/Ready to accept connections/.test(log)) {
        clearTimeout(timer);
        child.stdout?.off('data', onData);
        child.stdout?.resume();
        child.stderr?.resume();
        resolve(child);
      }
    };
    child.stdout?.on('data', onData);
    child.stderr?.on('data', (c: Buffer) => (log += c.toString()));
    child.on('error', (error) => {
      clearTimeout(timer);
      reject(new Error(`cannot start redis-server (is it installed? .ci/run installs Debian's): ${error.message}`));
    });
    child.on('exit', (code) => {
      clearTimeout(timer);
      reject(new Error(`redis-server exited with code ${code}: ${log}`));
    });
  });
}

function terminate(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return Promise.resolve();
  return new Promise((resolve) => {
    child.once('exit', () => resolve());
    child.kill('SIGTERM');
  });
}

/**
 * Starts a fresh Redis in a temporary folder on a free loopback port. `fsync`: `always` (default:
 * a restart loses nothing) or `everysec` (Redis's production default, for benchmarks).
 */
export async function startRedis(fsync: 'always' | 'everysec' = 'always'): Promise<RedisServer> {
  const dir = mkdtempSync(join(tmpdir(), 'agegender-redis-'));
  const port = await freePort();
  let child = await launch(port, dir, fsync);
  return {
    url: `redis://127.0.0.1:${port}`,
    port,
    dir,
    async restart(downMs = 0) {
      await terminate(child);
      if (downMs > 0) await new Promise((r) => setTimeout(r, downMs));
      child = await launch(port, dir, fsync);
    },
    async stop() {
      await terminate(child);
      rmSync(dir, { recursive: true, force: true });
    },
  };
}
