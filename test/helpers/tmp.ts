/** Temporary folders for tests, removed when the test ends. */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { TestContext } from 'node:test';

/**
 * A fresh folder `<tmp>/<prefix>XXXXXX`, removed with everything in it when test `t` ends, passed or failed.
 *
 * @example
 *   it('writes a workspace', async (t) => {
 *     const root = tempDir(t, 'agegender-prepare-');
 *   });
 */
export function tempDir(t: TestContext, prefix: string): string {
  const dir = mkdtempSync(join(tmpdir(), prefix));
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  return dir;
}
