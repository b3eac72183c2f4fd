// The stage-2 consistency loss (`train --consistency`): its value and gradients, the copies it
// pairs, and the option's checks.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import * as tf from '@tensorflow/tfjs';
import { AgeGenderError } from '../../src/core/errors.js';
import { mulberry32 } from '../../src/core/random.js';
import { consistencyPair } from '../../src/train/epoch.js';
import { consistencyLosses, stopGradient } from '../../src/train/losses.js';
import { checkOptions, resolveOptions, resumeKey } from '../../src/train/options.js';

const outputs = (age: tf.Tensor2D, gender: tf.Tensor2D) => ({ ageLogits: age, genderLogits: gender });

describe('consistency loss', () => {
  it('is zero when the copy predicts what the anchor does, and grows with the difference', () => {
    const age = tf.randomNormal([4, 101], 0, 1, 'float32', 1) as tf.Tensor2D;
    const gender = tf.randomNormal([4, 2], 0, 1, 'float32', 2) as tf.Tensor2D;
    const w = tf.ones([4]) as tf.Tensor1D;
    const same = consistencyLosses(outputs(age, gender), outputs(age, gender), w, 10);
    assert.ok(Math.abs(same.age.dataSync()[0]!) < 1e-5, `age ${same.age.dataSync()[0]}`);
    assert.ok(Math.abs(same.gender.dataSync()[0]!) < 1e-6);
    const near = consistencyLosses(outputs(age, gender), outputs(tf.add(age, tf.randomNormal([4, 101], 0, 0.1, 'float32', 3)) as tf.Tensor2D, tf.add(gender, 0.2) as tf.Tensor2D), w, 10);
    const far = consistencyLosses(outputs(age, gender), outputs(tf.add(age, tf.randomNormal([4, 101], 0, 1, 'float32', 3)) as tf.Tensor2D, tf.reverse(gender, 1) as tf.Tensor2D), w, 10);
    const [n, f] = [near.age.dataSync()[0]!, far.age.dataSync()[0]!];
    assert.ok(n > 0 && f > n, `near ${n}, far ${f}`);
    assert.ok(far.gender.dataSync()[0]! > near.gender.dataSync()[0]!);
  });

  it('an age shift in the copy shows in the expected-age term, scaled by ageScale', () => {
    // the anchor's distribution is a spike at 30, the copy's at 40: KL is large either way, the L1 term is 10 / ageScale
    const spike = (a: number) => tf.tensor2d([Array.from({ length: 101 }, (_, i) => (i === a ? 30 : 0))]);
    const g = tf.tensor2d([[0, 0]]);
    const w = tf.ones([1]) as tf.Tensor1D;
    const d5 = consistencyLosses(outputs(spike(30), g), outputs(spike(40), g), w, 5).age.dataSync()[0]!;
    const d10 = consistencyLosses(outputs(spike(30), g), outputs(spike(40), g), w, 10).age.dataSync()[0]!;
    assert.ok(Math.abs(d5 - d10 - (10 / 5 - 10 / 10)) < 1e-3, `${d5} − ${d10}`);
  });

  it('only the copy gets a gradient: the anchor is a fixed target', () => {
    const a = tf.variable(tf.randomNormal([3, 101], 0, 1, 'float32', 4));
    const b = tf.variable(tf.randomNormal([3, 101], 0, 1, 'float32', 5));
    const ga = tf.variable(tf.randomNormal([3, 2], 0, 1, 'float32', 6));
    const gb = tf.variable(tf.randomNormal([3, 2], 0, 1, 'float32', 7));
    const { grads } = tf.variableGrads(() => {
      const l = consistencyLosses(outputs(a as tf.Tensor2D, ga as tf.Tensor2D), outputs(b as tf.Tensor2D, gb as tf.Tensor2D), tf.ones([3]) as tf.Tensor1D, 10);
      return tf.add(l.age, l.gender) as tf.Scalar;
    }, [a, b, ga, gb]);
    const norm = (v: tf.Variable) => tf.max(tf.abs(grads[v.name]!)).dataSync()[0]!;
    assert.equal(norm(a), 0);
    assert.equal(norm(ga), 0);
    assert.ok(norm(b) > 1e-4);
    assert.ok(norm(gb) > 1e-4);
    // stopGradient is the identity in the forward pass
    assert.deepEqual(Array.from(stopGradient(tf.tensor1d([1, -2, 3])).dataSync()), [1, -2, 3]);
  });
});

describe('consistencyPair', () => {
  it('pairs the original or the mirror with an augmented copy of the same orientation, from every set', () => {
    for (const copies of [4, 6]) {
      const rng = mulberry32(9);
      const seen = new Set<string>();
      for (let i = 0; i < 400; i++) {
        const { anchor, copy } = consistencyPair(copies, rng);
        assert.ok(anchor === 0 || anchor === 1);
        assert.ok(copy >= 2 && copy < copies, `copy ${copy} of ${copies}`);
        assert.equal(copy % 2, anchor, 'the mirrored copy pairs with the mirror');
        seen.add(`${anchor}-${copy}`);
      }
      assert.equal(seen.size, copies - 2, `all ${copies - 2} pairings drawn with ${copies} copies`);
    }
  });

  it('refuses a feature set without augmented copies', () => {
    assert.throws(() => consistencyPair(2, mulberry32(1)), /augmented copies/);
  });
});

describe('--consistency option', () => {
  const base = { workspace: 'ws', out: 'out' };
  it('needs augmented copies and a weight ≥ 0', () => {
    assert.throws(() => checkOptions({ ...base, consistency: 1 }), (e: unknown) => e instanceof AgeGenderError && e.code === 'INVALID_ARGUMENT' && /jitter or photoAugment/.test(e.message));
    assert.throws(() => checkOptions({ ...base, consistency: -1, photoAugment: true }), (e: unknown) => e instanceof AgeGenderError && /consistency/.test(e.message));
    assert.throws(() => checkOptions({ ...base, consistency: Number.NaN, jitter: true }), (e: unknown) => e instanceof AgeGenderError && /consistency/.test(e.message));
    checkOptions({ ...base, consistency: 1, photoAugment: true });
    checkOptions({ ...base, consistency: 0 });
  });

  it('is part of the resume key (a checkpoint without it is not resumed with it), and 0 keeps the old key', () => {
    const plain = resumeKey(resolveOptions({ ...base, photoAugment: true }), 'h');
    assert.equal(resumeKey(resolveOptions({ ...base, photoAugment: true, consistency: 0 }), 'h'), plain);
    assert.notEqual(resumeKey(resolveOptions({ ...base, photoAugment: true, consistency: 1 }), 'h'), plain);
  });
});
