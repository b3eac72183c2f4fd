// A run's callbacks: CallbackList calls them in order, `with` makes a new list for a stage and
// leaves the run's list as it was, and one `{ stop: true }` ends the stage after every callback ran.
import { strict as assert } from 'node:assert';
import { describe, it } from 'node:test';
import { AgeGenderError } from '../../src/core/errors.js';
import { CallbackList, earlyStopping, nanGuard, type EpochLogs, type TrainCallback } from '../../src/train/callbacks.js';

const logs = (epoch: number, valMae: number): EpochLogs => ({
  stage: 2, epoch, epochs: 4, loss: 0, ageLoss: 0, genderLoss: 0,
  valMae, valCs8: 0, valGenderAccuracy: 0, valAgeLoss: 0, valGenderLoss: 0, seconds: 0, lr: 0,
});

/** A callback that writes `<name>:<hook>` to `calls` for every hook it gets. */
function recorder(name: string, calls: string[], stop = false): TrainCallback {
  return {
    name,
    onStageBegin: () => void calls.push(`${name}:stageBegin`),
    onEpochEnd: () => {
      calls.push(`${name}:epochEnd`);
      return stop ? { stop: true } : undefined;
    },
    onEvent: (event) => void calls.push(`${name}:${event}`),
  };
}

describe('CallbackList', () => {
  it('calls every callback in order, for every hook', async () => {
    const calls: string[] = [];
    const list = new CallbackList([recorder('a', calls), recorder('b', calls)]);
    await list.stageBegin({ stage: 1, epochs: 2, startEpoch: 1, trainCount: 3, valCount: 1 });
    assert.equal(await list.epochEnd(logs(1, 5)), false);
    await list.emit('checkpoint', { stage: 1, epoch: 1 });
    assert.deepEqual(calls, ['a:stageBegin', 'b:stageBegin', 'a:epochEnd', 'b:epochEnd', 'a:checkpoint', 'b:checkpoint']);
  });

  it('one stop request ends the stage, and the callbacks after it still see the epoch', async () => {
    const calls: string[] = [];
    const list = new CallbackList([recorder('a', calls, true), recorder('b', calls)]);
    assert.equal(await list.epochEnd(logs(1, 5)), true);
    assert.deepEqual(calls, ['a:epochEnd', 'b:epochEnd']);
  });

  it('`with` gives a stage its own list; the run list is unchanged and cannot be changed', async () => {
    const calls: string[] = [];
    const run = new CallbackList([recorder('run', calls)]);
    const stage = run.with(earlyStopping({ patience: 1 }), recorder('stage', calls));
    assert.deepEqual(run.callbacks.map((c) => c.name), ['run']);
    assert.deepEqual(stage.callbacks.map((c) => c.name), ['run', 'earlyStopping', 'stage']);
    assert.throws(() => (run.callbacks as TrainCallback[]).push(recorder('x', calls)), TypeError);
    // the stage's early stopping answers through the stage list only
    assert.equal(await stage.epochEnd(logs(1, 5)), false);
    assert.equal(await stage.epochEnd(logs(2, 6)), true);
    assert.equal(await run.epochEnd(logs(3, 7)), false);
  });
});

describe('CallbackList errors', () => {
  it("names the callback and the hook of a callback's own error, keeping it as the cause", async () => {
    const boom = new Error('boom');
    const list = new CallbackList([{ name: 'fine', onEpochEnd: () => undefined }, { name: 'mine', onEpochEnd: () => { throw boom; } }]);
    await assert.rejects(list.epochEnd(logs(1, 5)), (e: Error) => {
      assert.match(e.message, /training callback "mine" failed in onEpochEnd: boom/);
      assert.equal(e.cause, boom);
      return true;
    });
    const async = new CallbackList([{ name: 'later', onEvent: async () => Promise.reject(new Error('no disk')) }]);
    await assert.rejects(async.emit('checkpoint', {}), /training callback "later" failed in onEvent\(checkpoint\): no disk/);
  });

  it('lets an AgeGenderError (the NaN guard stopping the run) through unchanged', async () => {
    const list = new CallbackList([nanGuard()]);
    await assert.rejects(list.epochEnd(logs(1, Number.NaN)), (e: unknown) => e instanceof AgeGenderError && e.code === 'TRAINING_DIVERGED' && !e.message.includes('training callback'));
  });
});
