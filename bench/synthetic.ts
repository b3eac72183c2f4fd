// Does the photo path reproduce the chip prediction? Two checks on UTKFace test chips from a workspace
// built by `agegender prepare` (its manifest's test split, or `split: 'val'`; chips spread evenly over it):
//  - chips: each chip as it is, with detection on (the default) vs --no-detect: faces found, share
//    within 0.5 years, MAE of the difference, gender agreement;
//  - synthetic: each chip pasted into a larger photo (bench/synthetic-photos.ts) through detect →
//    align → predict vs the chip's direct prediction (grayscale chip for grayscale photos). The face
//    scored is the one on the pasted chip (synthetic-photos.ts pastedFace): a face the detector finds
//    elsewhere is counted, never scored, so "found" means the chip's face was found.
// Called by bench/photos.ts (`--chips N`, `--synthetic N`).
import { mkdir } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import sharp from 'sharp';
import { analyzeImage, analyzeOrNoFaces, largestFace, loadFaceDetector, loadImageInput, loadModel, readManifest, rowsOfSplit, spreadSubset, type AgeGenderModel, type FaceDetector, type RawImage } from 'agegender';
import { writeFileAtomic } from 'agegender/core';
import { pastedFace, syntheticPhotosOf, type SyntheticSpec } from './synthetic-photos.js';

export interface SyntheticBenchOptions {
  synthetic: number;
  chips: number;
  workspace?: string;
  modelDir?: string;
  out: string;
  seed?: number;
  /** The workspace split the chips come from (default test; val for model choices). */
  split?: 'test' | 'val';
  /** Synthetic photos saved as JPEG for a look (default 24). */
  keep?: number;
  log: (line: string) => void;
}

interface Pair {
  name: string;
  found: boolean;
  faces: number;
  /** Synthetic photos: faces found other than the one on the pasted chip. */
  elsewhere?: number;
  direct: { age: number; female: number; gender: string };
  photo: { age: number; female: number; gender: string } | null;
  spec?: SyntheticSpec;
}

export interface AgreementSummary {
  n: number;
  found: number;
  /** Null over no photos (as every share here: 0 of 0 is not 0%). */
  foundShare: number | null;
  /** Over the photos where a face was found. */
  maeDiff: number | null;
  within05: number | null;
  /** Within 0.5 years counting photos without a face as misses. */
  within05All: number | null;
  genderAgreement: number | null;
}

function agreement(pairs: readonly Pair[]): AgreementSummary {
  const found = pairs.filter((p) => p.photo !== null);
  const diffs = found.map((p) => Math.abs(p.photo!.age - p.direct.age));
  const within = diffs.filter((d) => d <= 0.5).length;
  const agree = found.filter((p) => (p.photo!.female >= 0.5) === (p.direct.female >= 0.5)).length;
  const n = pairs.length;
  return {
    n,
    found: found.length,
    foundShare: n > 0 ? found.length / n : null,
    maeDiff: found.length > 0 ? diffs.reduce((s, d) => s + d, 0) / found.length : null,
    within05: found.length > 0 ? within / found.length : null,
    within05All: n > 0 ? within / n : null,
    genderAgreement: found.length > 0 ? agree / found.length : null,
  };
}

const summaryOf = (p: { age: number; femaleProbability: number; gender: string }): Pair['direct'] => ({ age: p.age, female: p.femaleProbability, gender: String(p.gender) });

async function direct(model: AgeGenderModel, image: RawImage): Promise<Pair['direct']> {
  const { faces } = await analyzeImage(model, null, image, { detect: false });
  return summaryOf(faces[0]!.prediction);
}

/** The photo path on `image`; the face scored is the largest (a chip), or the one on the pasted chip (a synthetic photo, `spec`). */
async function throughPhotoPath(model: AgeGenderModel, detector: FaceDetector, image: RawImage, spec?: SyntheticSpec): Promise<{ faces: number; elsewhere?: number; photo: Pair['photo'] }> {
  const { faces } = await analyzeOrNoFaces(model, detector, image, { detect: true });
  if (!spec) {
    const face = largestFace(faces);
    return { faces: faces.length, photo: face ? summaryOf(face.prediction) : null };
  }
  const { face, elsewhere } = pastedFace(faces, spec);
  return { faces: faces.length, elsewhere, photo: face ? summaryOf(face.prediction) : null };
}

const gray = async (path: string): Promise<Buffer> => sharp(path).grayscale().toColourspace('srgb').png().toBuffer();

export async function runSyntheticBench(o: SyntheticBenchOptions): Promise<{ chips: AgreementSummary | null; synthetic: AgreementSummary | null; syntheticGray: AgreementSummary | null }> {
  const workspace = resolve(o.workspace ?? 'workspace/utk');
  const rows = rowsOfSplit(await readManifest(workspace), o.split ?? 'test');
  const seed = o.seed ?? 17;
  const model = await loadModel(o.modelDir, { threads: 1 });
  const detector = await loadFaceDetector();
  await mkdir(o.out, { recursive: true });
  const faceFree = resolve('test/fixtures/photos/no-face.jpg');
  let chips: AgreementSummary | null = null;
  let synthetic: AgreementSummary | null = null;
  let syntheticGray: AgreementSummary | null = null;
  let elsewhere: { faces: number; photos: number } | null = null;
  try {
    if (o.chips > 0) {
      const pairs: Pair[] = [];
      for (const row of spreadSubset(rows, o.chips)) {
        const image = await loadImageInput(row.source);
        const d = await direct(model, image);
        const p = await throughPhotoPath(model, detector, image);
        pairs.push({ name: row.name, found: p.photo !== null, faces: p.faces, direct: d, photo: p.photo });
        if (pairs.length % 100 === 0) o.log(`chips: ${pairs.length}`);
      }
      chips = agreement(pairs);
      await writeFileAtomic(join(o.out, 'chips.json'), `${JSON.stringify({ summary: chips, pairs })}\n`);
    }
    if (o.synthetic > 0) {
      const pairs: Pair[] = [];
      for await (const { spec, jpeg, row, index: i } of syntheticPhotosOf(rows, o.synthetic, seed, faceFree)) {
        if (i < (o.keep ?? 24)) await writeFileAtomic(join(o.out, `synthetic-${String(i).padStart(4, '0')}.jpg`), jpeg);
        const d = await direct(model, await loadImageInput(spec.grayscale ? await gray(row.source) : row.source));
        const p = await throughPhotoPath(model, detector, await loadImageInput(jpeg), spec);
        pairs.push({ name: row.name, found: p.photo !== null, faces: p.faces, elsewhere: p.elsewhere, direct: d, photo: p.photo, spec });
        if (pairs.length % 100 === 0) o.log(`synthetic: ${pairs.length}`);
      }
      synthetic = agreement(pairs);
      syntheticGray = agreement(pairs.filter((p) => p.spec!.grayscale));
      elsewhere = { faces: pairs.reduce((s, p) => s + (p.elsewhere ?? 0), 0), photos: pairs.filter((p) => (p.elsewhere ?? 0) > 0).length };
      await writeFileAtomic(join(o.out, 'synthetic.json'), `${JSON.stringify({ seed, summary: synthetic, grayscale: syntheticGray, elsewhere, pairs })}\n`);
    }
  } finally {
    detector.dispose();
    model.dispose();
  }
  const pct = (v: number | null): string => (v === null ? '–' : `${(v * 100).toFixed(1)}%`);
  const f = (v: number | null): string => (v === null ? '–' : v.toFixed(3));
  o.log(`\nUTKFace ${o.split ?? 'test'} chips (${workspace}) through the photo path vs the direct chip prediction (--no-detect), ${detector.name}:\n`);
  o.log('| input | n | faces found | within 0.5 y (of found) | within 0.5 y (of all) | MAE of the difference | gender agreement |\n|---|---|---|---|---|---|---|');
  const line = (name: string, s: AgreementSummary | null): void => {
    if (s) o.log(`| ${name} | ${s.n} | ${pct(s.foundShare)} | ${pct(s.within05)} | ${pct(s.within05All)} | ${f(s.maeDiff)} | ${pct(s.genderAgreement)} |`);
  };
  line('chips as they are, detection on', chips);
  line(`synthetic photos (seed ${seed})`, synthetic);
  line('… of which grayscale', syntheticGray);
  if (elsewhere) o.log(`\nIn the synthetic photos the face scored is the one on the pasted chip; ${elsewhere.faces} other face(s) were found, in ${elsewhere.photos} photo(s).`);
  return { chips, synthetic, syntheticGray };
}
