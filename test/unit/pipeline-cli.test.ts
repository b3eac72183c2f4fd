// `agegender pipeline --workspace X` trains into X/model unless --model says otherwise; a split left
// empty by prepare is refused before training.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { copyFileSync, existsSync, mkdirSync } from 'node:fs';
import { basename, join } from 'node:path';
import { AgeGenderError } from '../../src/core/errors.js';
import { runPipeline } from '../../src/workflow/pipeline.js';
import { sampleChips } from '../helpers/data.js';
import { tempDir } from '../helpers/tmp.js';
import { pipelineModelDir } from '../../src/cli/commands/pipeline.js';
import { buildProgram } from '../../src/cli/main.js';

test('pipeline --model defaults to <workspace>/model, not ./workspace/utk/model', async () => {
  assert.equal(pipelineModelDir('/runs/expA', undefined), join('/runs/expA', 'model'));
  assert.equal(pipelineModelDir('/runs/expA', '/models/m'), '/models/m');
  const program = await buildProgram('pipeline');
  const command = program.commands.find((c) => c.name() === 'pipeline')!;
  const model = command.options.find((o) => o.long === '--model')!;
  assert.equal(model.defaultValue, undefined, 'no fixed default that would ignore --workspace');
  assert.match(model.description, /<workspace>\/model/);
});

test('pipeline refuses before training when prepare leaves a split without faces', async (t) => {
  const root = tempDir(t, 'agegender-pipeline-empty-');
  const input = join(root, 'in');
  mkdirSync(input);
  for (const chip of sampleChips(3)) copyFileSync(chip, join(input, basename(chip)));
  const model = join(root, 'model');
  await assert.rejects(
    runPipeline({ inputs: [input], workspace: join(root, 'ws'), modelDir: model, report: join(root, 'report.html'), policy: 'keep-one', epochs: 1, stage1Epochs: 1, seed: 1, command: 'test' }),
    (e: unknown) => e instanceof AgeGenderError && e.code === 'WORKSPACE_INVALID' && /no kept face in the .*split.*\(train \d+ · val \d+ · test \d+\)/.test(e.message) && e.message.startsWith(join(root, 'ws')),
  );
  assert.equal(existsSync(model), false, 'nothing trained');
});
