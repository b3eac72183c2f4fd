// chooseInference on a workspace whose test split is empty: says test was not scored.
import { strict as assert } from 'node:assert';
import { cpSync } from 'node:fs';
import { basename, join } from 'node:path';
import { it } from 'node:test';
import type { ManifestRow } from '../../src/core/types.js';
import { defaultModelDir } from '../../src/model/index.js';
import { chooseInference } from '../../src/train/choose-inference.js';
import { pickChips } from '../helpers/train-fixtures.js';
import { tempDir } from '../helpers/tmp.js';

it('an empty test split is said to be not scored (not left out silently)', async (t) => {
  const model = join(tempDir(t, 'agegender-choose-'), 'model');
  cpSync(defaultModelDir(), model, { recursive: true });
  const rows: ManifestRow[] = pickChips(4).map((c) => ({ source: c.source, name: basename(c.source), size: 0, sha256: null, phash: null, width: 200, height: 200, age: c.age, gender: c.gender, ethnicity: c.ethnicity, datetime: null, status: 'kept', reason: '', cluster: null, duplicateOf: null, split: 'val' }));
  const lines: string[] = [];
  const r = await chooseInference({ modelDir: model, rows, command: 'test', replicates: 10, log: (l) => lines.push(l) });
  assert.equal(r.test, null);
  assert.equal(r.metrics['test'], undefined);
  assert.ok(lines.includes('test: no kept rows in the test split, not scored'), lines.join('\n'));
});
