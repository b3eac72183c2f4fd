// Early stopping on val MAE: patience, the grace epochs of stage 2's high-learning-rate start, and
// priming from a checkpoint's history so a resumed run stops where an uninterrupted one would.
import { strict as assert } from 'node:assert';
import { describe, it } from 'node:test';
import { earlyStopping, type EpochLogs, type TrainCallback } from '../../src/train/callbacks.js';

const logs = (epoch: number, valMae: number): EpochLogs => ({
  stage: 2, epoch, epochs: 8, loss: 0, ageLoss: 0, genderLoss: 0,
  valMae, valCs8: 0, valGenderAccuracy: 0, valAgeLoss: 0, valGenderLoss: 0, seconds: 0, lr: 0,
});

/** The first epoch at which the callback says stop, or null if it never does. */
async function stopsAt(cb: TrainCallback, maes: readonly number[], firstEpoch = 1): Promise<number | null> {
  for (let i = 0; i < maes.length; i++) {
    const r = await cb.onEpochEnd?.(logs(firstEpoch + i, maes[i]!));
    if (r && r.stop) return firstEpoch + i;
  }
  return null;
}

// The stage-2 val MAEs of the 8-epoch run that plain patience cut off (epochs 1–3), then a descent.
const run = [4.725, 5.303, 4.826, 4.6, 4.5, 4.45, 4.46, 4.47];

describe('earlyStopping', () => {
  it('stops after `patience` epochs without improvement', async () => {
    assert.equal(await stopsAt(earlyStopping({ patience: 2 }), run), 3);
    assert.equal(await stopsAt(earlyStopping({ patience: 3 }), run), null);
    assert.equal(await stopsAt(earlyStopping({ patience: 2 }), [5, 4.9, 4.8, 4.7]), null);
  });

  it('epochs up to graceEpochs do not count against the patience', async () => {
    assert.equal(await stopsAt(earlyStopping({ patience: 2, graceEpochs: 4 }), run), 8);
    // still stops once the grace is over and val keeps getting worse
    assert.equal(await stopsAt(earlyStopping({ patience: 2, graceEpochs: 2 }), [4, 5, 5, 5, 5]), 4);
  });

  it('minDelta: smaller gains count as no improvement', async () => {
    assert.equal(await stopsAt(earlyStopping({ patience: 2, minDelta: 0.05 }), [5, 4.98, 4.96]), 3);
  });

  it('a callback primed with the epochs already run stops where an uninterrupted one does', async () => {
    for (const cut of [1, 3, 5, 7]) {
      const uninterrupted = await stopsAt(earlyStopping({ patience: 2, graceEpochs: 4 }), run);
      const seen = run.slice(0, cut).map((valMae, i) => ({ epoch: i + 1, valMae }));
      const resumed = await stopsAt(earlyStopping({ patience: 2, graceEpochs: 4, seen }), run.slice(cut), cut + 1);
      assert.equal(resumed, uninterrupted, `resumed after epoch ${cut}`);
    }
    // a stage that had already stopped says so before any new epoch runs
    const stoppedRun = [5, 5.1, 5.2];
    assert.equal(earlyStopping({ patience: 2, seen: stoppedRun.map((valMae, i) => ({ epoch: i + 1, valMae })) }).stopped, true);
    assert.equal(earlyStopping({ patience: 2, graceEpochs: 4, seen: stoppedRun.map((valMae, i) => ({ epoch: i + 1, valMae })) }).stopped, false);
    // without priming, a resume after epoch 7 would forget that 4.47 is a second bad epoch
    assert.equal(await stopsAt(earlyStopping({ patience: 2, graceEpochs: 4 }), run.slice(7), 8), null);
  });
});
