// What the dlib-style refinement costs per photo: analyzeImage with align 'dlib68' (default) against
// 'five-point' on the same decoded photos, interleaved, median of N rounds each (one process, the
// shipped model on onnxruntime with one thread, YuNet). Photos: the test fixtures with 1, 3 and 7 faces.
//   node --conditions=agegender-source --import tsx experiments/refine-cost.ts [--rounds 20]
import { parseArgs } from 'node:util';
import { analyzeImage, loadFaceDetector, loadImageInput, loadModel } from 'agegender';

const { values } = parseArgs({ options: { rounds: { type: 'string', default: '20' } } });
const rounds = Number(values.rounds);
const model = await loadModel(undefined, { threads: 1 });
const detector = await loadFaceDetector();
const median = (xs: number[]): number => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;
console.log('| photo | faces | five-point ms | dlib68 ms | difference per face |\n|---|---|---|---|---|');
for (const file of ['chips/24_0_2_20170116170633399.jpg.chip.jpg', 'three-faces.jpg', 'many-faces.jpg']) {
  const image = await loadImageInput(`test/fixtures/photos/${file}`);
  const t: Record<'five-point' | 'dlib68', number[]> = { 'five-point': [], dlib68: [] };
  let faces = 0;
  for (let r = 0; r < rounds + 2; r++) {
    for (const align of ['five-point', 'dlib68'] as const) {
      const t0 = performance.now();
      faces = (await analyzeImage(model, detector, image, { detect: true, align })).faces.length;
      if (r >= 2) t[align].push(performance.now() - t0); // two warm-up rounds
    }
  }
  const a = median(t['five-point']);
  const b = median(t.dlib68);
  console.log(`| ${file} | ${faces} | ${a.toFixed(1)} | ${b.toFixed(1)} | ${((b - a) / faces).toFixed(1)} |`);
}
detector.dispose();
model.dispose();
