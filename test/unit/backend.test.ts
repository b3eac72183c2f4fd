// initBackend leaves no process-wide crash listeners behind (tfjs-backend-wasm's Emscripten glue adds two
// that rethrow, which turned every later uncaught error into a dump of its minified source).
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { test } from 'node:test';
import { initBackend } from '../../src/model/backend.js';

test('initBackend adds no uncaughtException or unhandledRejection listener', async () => {
  const before = [process.listenerCount('uncaughtException'), process.listenerCount('unhandledRejection')];
  const { backend } = await initBackend();
  assert.equal(backend, 'wasm');
  assert.deepEqual([process.listenerCount('uncaughtException'), process.listenerCount('unhandledRejection')], before);
});

test('an error thrown after initBackend is reported readably, not as the wasm module source', () => {
  const script = "import { initBackend } from 'agegender/model'; await initBackend(); throw new Error('boom-after-backend');";
  const r = spawnSync(process.execPath, ['--conditions=agegender-source', '--import', 'tsx', '--input-type=module', '-e', script], { encoding: 'utf8', cwd: new URL('../..', import.meta.url) });
  assert.notEqual(r.status, 0);
  assert.match(r.stderr, /Error: boom-after-backend/);
  assert.doesNotMatch(r.stderr, /WasmBackendModule/);
  assert.ok(r.stderr.length < 5_000, `stderr is ${r.stderr.length} characters`);
});
