// Measures one stage-2 training step (top + head, batch 32, from cut activations) on wasm and on cpu.
import * as tf from '@tensorflow/tfjs';
import { initBackend } from 'agegender/model';
import { loadFaceApiWeights } from 'agegender/model';
import { AgeGenderNet } from 'agegender/model';

await initBackend();
for (const backend of ['wasm', 'cpu']) {
  await tf.setBackend(backend);
  const w = await loadFaceApiWeights();
  const net = new AgeGenderNet(w, { trainableTop: true });
  const { top, head } = net.trainableVariables();
  const cut = tf.randomUniform([32, 4, 4, 256], 0, 1) as tf.Tensor4D;
  const pooled = tf.randomUniform([32, 480]) as tf.Tensor2D;
  const times: number[] = [];
  for (let i = 0; i < (backend === 'cpu' ? 2 : 5); i++) {
    const t0 = performance.now();
    const { value, grads } = tf.variableGrads(() => tf.mean(net.forwardFromCut(cut, pooled).ageLogits) as tf.Scalar, [...top, ...head]);
    await value.data();
    tf.dispose([value, ...Object.values(grads)]);
    times.push(performance.now() - t0);
  }
  console.log(backend, 'ms per image (batch 32, fwd+bwd):', (Math.min(...times) / 32).toFixed(2));
  net.dispose();
  tf.dispose([cut, pooled, ...Object.values(w)]);
}
