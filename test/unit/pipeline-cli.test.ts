// `agegender pipeline --workspace X` trains into X/model unless --model says otherwise.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { join } from 'node:path';
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
