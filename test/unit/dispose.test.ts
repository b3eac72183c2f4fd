// A library user's load → use → dispose cycle gives back every TF.js tensor it took. In a file of its
// own: the count is taken before anything in this process has loaded a net.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { fileURLToPath } from 'node:url';
import * as tf from '@tensorflow/tfjs';
import { analyzeImage, initBackend, loadFaceDetector, loadImageInput, loadModel } from '../../src/index.js';

test("dispose() on the model and the detector gives back every TF.js tensor the photo path took (the refinement pass's 68-landmark net included)", async () => {
  await initBackend();
  const photo = await loadImageInput(fileURLToPath(new URL('../fixtures/photos/three-faces.jpg', import.meta.url)));
  const before = tf.memory().numTensors;
  for (const [detectorName, runtime] of [['yunet', 'auto'], ['ssd', 'tfjs']] as const) {
    for (let round = 1; round <= 2; round++) {
      const [model, detector] = await Promise.all([loadModel(undefined, { runtime }), loadFaceDetector({ detector: detectorName })]);
      try {
        const { faces } = await analyzeImage(model, detector, photo, { detect: true }); // align 'dlib68': the 68-landmark net runs
        assert.equal(faces.length, 3);
      } finally {
        model.dispose();
        detector.dispose();
      }
      assert.equal(tf.memory().numTensors, before, `${detectorName} detector + ${runtime} model, round ${round}: tensors left after dispose()`);
    }
  }
});
