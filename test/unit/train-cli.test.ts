// What `agegender train` prints once the model folder is written.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { scoresText } from '../../src/cli/commands/train.js';

test('train --no-score says the model was not scored instead of printing {}', () => {
  const text = scoresText({ timingsSeconds: { total: 12 } });
  assert.notEqual(text.trim(), '{}');
  assert.match(text, /^not scored \(--no-score\)/);
});

test('train prints the val and test scores without their intervals', () => {
  const text = scoresText({ val: { mae: 4.39, ci: { mae: { low: 4.2, high: 4.5 } } }, test: { mae: 4.47 }, timingsSeconds: { total: 12 } });
  assert.deepEqual(JSON.parse(text), { val: { mae: 4.39 }, test: { mae: 4.47 } });
});
