import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import sharp from 'sharp';
import { ETHNICITIES, GENDERS, type ManifestRow } from '../../src/core/types.js';
import { AGE_BUCKETS } from '../../src/data/labels.js';
import { mulberry32 } from '../../src/core/random.js';
import type { AgeGenderModel } from '../../src/model/api.js';
import type { RawImage } from '../../src/io/types.js';
import { parsePredictionsCsv, predictionsCsv, summarise, type PredictionRecord } from '../../src/eval/evaluate.js';
import { buildReport, readTrainingLog } from '../../src/report/build.js';
import { edaStats, duplicatePairs } from '../../src/report/eda.js';
import { renderSvg } from '../../src/report/vega.js';
import { cleaningSection, farthestNearPairs, type RenderedCharts } from '../../src/report/sections.js';
import { Thumbnails } from '../../src/report/html.js';
import { balanceNote, labelAgreementNote, modelCardHtml } from '../../src/report/model-card.js';
import { SummaryFileSchema, type LabelAgreement, type LabelDistribution, type SummaryFile } from '../../src/workspace/summary.js';

const metadata = { formatVersion: 1, name: 'tiny', encoder: 'none', inputSize: 200, createdAt: '2026-01-01T00:00:00Z', command: 'agegender train --balance', datasetManifestHash: null, metrics: {} };

function brightnessModel(): AgeGenderModel {
  const mean = (img: RawImage): number => img.data.reduce((s, v) => s + v, 0) / img.data.length / 255;
  return {
    metadata,
    runtime: 'test',
    genderThreshold: 0.5,
    predict: async () => {
      throw new Error('unused');
    },
    predictBatch: async () => {
      throw new Error('unused');
    },
    scoreRaw: async (images) => images.map((img) => ({ age: 80 * mean(img), femaleProbability: 0.5 })),
    dispose: () => undefined,
  };
}

async function fixture(dir: string, n: number): Promise<{ rows: ManifestRow[]; records: PredictionRecord[] }> {
  const rand = mulberry32(5);
  const rows: ManifestRow[] = [];
  const records: PredictionRecord[] = [];
  for (let i = 0; i < n; i++) {
    const source = join(dir, `${i}.png`);
    const colour = { r: Math.floor(rand() * 255), g: Math.floor(rand() * 255), b: Math.floor(rand() * 255) };
    const noise = Buffer.from(Array.from({ length: 64 * 64 * 3 }, () => Math.floor(rand() * 255)));
    await sharp(noise, { raw: { width: 64, height: 64, channels: 3 } }).resize(200, 200).composite([{ input: { create: { width: 100, height: 100, channels: 3, background: colour } } }]).png().toFile(source);
    const age = 1 + Math.floor(rand() * 80);
    const gender = GENDERS[i % 2]!;
    const ethnicity = ETHNICITIES[i % 5]!;
    const split = i % 3 === 0 ? 'test' : i % 3 === 1 ? 'train' : 'val';
    const status = i === n - 1 ? 'duplicate-near' : 'kept';
    rows.push({ source, name: `${age}_${i % 2}_${i % 5}_2017.jpg.chip.jpg`, size: 1, sha256: null, phash: null, width: 200, height: 200, age, gender, ethnicity, datetime: null, status, reason: status === 'kept' ? '' : 'near-duplicate of 0.png (distance 3)', cluster: status === 'kept' ? null : 1, duplicateOf: status === 'kept' ? null : rows[0]!.source, split: status === 'kept' ? split : null });
    if (split === 'test' && status === 'kept') {
      const p = Math.min(1, Math.max(0, (gender === 'female' ? 0.7 : 0.3) + (rand() - 0.5) * 0.6));
      records.push({ source, name: rows[i]!.name, age, gender, ethnicity, predictedAge: age + (rand() - 0.5) * 20, femaleProbability: p, ageInterval: [age - 5, age + 5] });
    }
  }
  return { rows, records };
}

test('Vega-Lite specs render to SVG in Node', async () => {
  const svg = await renderSvg({ data: { values: [{ a: 'x', b: 1 }] }, mark: 'bar', encoding: { x: { field: 'a', type: 'nominal' }, y: { field: 'b', type: 'quantitative' } } });
  assert.match(svg, /^<svg[^>]*xmlns="http:\/\/www\.w3\.org\/2000\/svg"/);
  assert.equal(svg.match(/<svg/g)?.length, 1);
  // with a label: one named image to a screen reader, not one ARIA node per mark
  const named = await renderSvg({ data: { values: [{ a: 'x', b: 1 }, { a: 'y', b: 2 }] }, mark: 'bar', encoding: { x: { field: 'a', type: 'nominal' }, y: { field: 'b', type: 'quantitative' } } }, 'Bars "a" & b');
  assert.match(named, /^<svg role="img" aria-label="Bars &quot;a&quot; &amp; b" /);
  assert.doesNotMatch(named, /aria-label="a: |aria-roledescription="bar"/);
});

test('EDA counts, duplicate pairs and training log parsing', async () => {
  const dir = await mkdtemp(join(tmpdir(), 'agegender-report-'));
  try {
    const { rows } = await fixture(dir, 12);
    const eda = edaStats(rows);
    assert.equal(eda.kept, 11);
    assert.equal(eda.ageYears.reduce((s, a) => s + a.count, 0), 11);
    assert.equal(eda.pyramid.reduce((s, a) => s + a.count, 0), 11);
    assert.equal(eda.splits.reduce((s, a) => s + a.count, 0), 11);
    assert.deepEqual(eda.statusCounts, [{ status: 'kept', count: 11 }, { status: 'duplicate-near', count: 1 }]);
    const pairs = duplicatePairs(rows, 4);
    assert.equal(pairs.length, 1);
    assert.equal(pairs[0]!.b?.source, rows[0]!.source);
    await writeFile(join(dir, 'metrics.jsonl'), '{"epoch":1,"loss":2,"val":{"mae":9}}\n{"epoch":2,"loss":1.5,"val":{"mae":8}}\n{"epoch":3,"lo');
    assert.deepEqual(await readTrainingLog(dir), [
      { epoch: 1, loss: 2, 'val.mae': 9 },
      { epoch: 2, loss: 1.5, 'val.mae': 8 },
    ]);
    assert.equal(await readTrainingLog(join(dir, 'missing')), null);
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
});

test('predictions.csv round-trips', () => {
  const records: PredictionRecord[] = [{ source: '/a, "b".jpg', name: 'x', age: 3, gender: 'female', ethnicity: 'Asian', predictedAge: 4.25, femaleProbability: 0.875, ageInterval: [1, 7] }];
  assert.deepEqual(parsePredictionsCsv(predictionsCsv(records)), records);
});

/** A summary.json with the sections the report reads, parsed as `readSummary` parses the file. */
function summaryFixture(rows: readonly ManifestRow[]): SummaryFile {
  const agreement = (o: Partial<LabelAgreement>): LabelAgreement => ({
    pairs: 0, images: 0, ageEqual: 0, meanAbsAgeDifference: 0, medianAbsAgeDifference: 0, ageDifferenceOver8: 0, ageDifferenceOver16: 0, genderDisagree: 0, ethnicityDisagree: 0, byAbsAgeDifference: {}, examples: [], ...o,
  });
  const distribution: LabelDistribution = { count: 6, gender: {}, ethnicity: {}, ageBucket: {}, meanAge: 30 };
  return SummaryFileSchema.parse({
    files: 40,
    kept: 39,
    examplePairs: [{ a: rows[0]!.source, b: rows[1]!.source, distance: 3 }],
    split: { groups: 38, largestGroup: 2, counts: { train: 27, val: 6, test: 6 }, distributions: { train: distribution, val: distribution, test: distribution } },
    crossSplitNearPairs: { distance: 8, groupDistance: 6, count: 2, withinGroupDistance: 0, byDistance: { '8': 2 }, examples: [] },
    labelAgreement: { identicalBytes: agreement({ pairs: 371, ageEqual: 0.474, ageDifferenceOver8: 0.178, ageDifferenceOver16: 0.051, genderDisagree: 0.108 }), sameCluster: agreement({}) },
  });
}

test('buildReport: one inline SVG per chart, galleries, LIME panels and the model card', async () => {
  const dir = await mkdtemp(join(tmpdir(), 'agegender-report-'));
  try {
    const { rows, records } = await fixture(dir, 40);
    const model = brightnessModel();
    const evaluation = summarise(records, { split: 'test', model, rows: records.length, skipped: [], replicates: 50, seed: 1, minGroupSize: 2, bestWorstCount: 4, now: () => new Date('2026-01-02T00:00:00Z') });
    const log = [{ epoch: 1, loss: 3 }, { epoch: 2, loss: 2 }];
    const report = await buildReport({ rows, summary: summaryFixture(rows), evaluation, records, metadata, trainingLog: log, model, limeCount: 2, limeSamples: 40, now: () => new Date('2026-01-03T00:00:00Z') });
    assert.equal(report.html.match(/<svg/g)?.length, report.charts);
    assert.equal(new Set(report.chartIds).size, report.charts);
    assert.ok(report.chartIds.includes('training-curves') && report.chartIds.includes('predicted-vs-actual') && report.chartIds.includes('pyramid'));
    assert.ok(report.chartIds.includes('gender-accuracy-coverage'), 'the accuracy–coverage chart');
    assert.match(report.html, /<section id="gender-abstention">/);
    assert.match(report.html, /Ages 0–9: only (?:[\d.]+%|n\/a) of faces get a gender/, 'the model card states the coverage for ages 0–9');
    assert.match(report.html, new RegExp(`<meta name="agegender-charts" content="${report.charts}">`));
    assert.equal(report.html.match(/<figure class="lime">/g)?.length, 2);
    // a LIME panel's alt text says what the picture shows, not the file name its caption starts with
    assert.deepEqual(
      [...report.html.matchAll(/<figure class="lime"><img [^>]*alt="([^"]*)"/g)].map((m) => m[1]),
      Array.from({ length: 2 }, () => 'Left, the face chip; right, the same chip dimmed except its 5 most influential superpixels, tinted blue or orange and outlined'),
    );
    assert.ok((report.html.match(/data:image\/jpeg;base64,/g)?.length ?? 0) > 20);
    assert.doesNotMatch(report.html, /unreadable/);
    assert.match(report.html, /pHash distance 3/);
    assert.match(report.html, /near pairs across splits \(distance ≤ 8\)<\/td><td>2 \(0 within the group distance 6, /);
    assert.match(report.html, /split \(train \/ val \/ test\)<\/td><td>27 \/ 6 \/ 6 \(largest group kept on one side: 2 files\)/);
    assert.match(report.html, /371 record pairs: ages differ by more than 8 years in 17\.8%, by more than 16 in 5\.1%; genders differ in 10\.8%/);
    assert.match(report.html, /more than 8 years in <b>17\.8%<\/b> of 371 pairs.*perfect model at about <b>89\.8%<\/b>/s);
    for (const phrase of ['not gender identity', 'non-commercial research', 'must NOT be deployed', 'Known label noise', 'with</b> <code>--balance</code>', 'Measured biases']) {
      assert.ok(report.html.includes(phrase), phrase);
    }
    // the card's figures come from the evaluation: the smallest group it compares is the evaluation's, not a fixed 20
    assert.match(report.html, /Measured biases \(best vs worst group, groups with ≥ 2 faces\)<\/h3>/);
    assert.doesNotMatch(report.html, /close to chance/, 'ages 0–9 are not near 50% on the shipped model (73.5% on test): the card does not claim it');
    // what cleaning dropped: the duplicates as well as the conflicting and malformed labels, with their counts
    const card = modelCardHtml({ metadata, evaluation, statusCounts: [{ status: 'kept', count: 20 }, { status: 'invalid-label', count: 5 }, { status: 'duplicate-exact', count: 139 }, { status: 'duplicate-near', count: 8499 }, { status: 'conflict', count: 2063 }] });
    assert.match(card, /cleaning removed or flagged them \(5 invalid-label, 139 duplicate-exact, 8499 duplicate-near, 2063 conflict\)/);
    // every chart is one image named by its title and caption
    const svgTags = report.html.match(/<svg[^>]*>/g) ?? [];
    assert.equal(svgTags.filter((t) => /^<svg role="img" aria-label="[^"]+\. [^"]+"/.test(t)).length, report.charts);
    // every chart sits in a box that scrolls sideways, with no background of its own (which would hide the
    // box's edge shadows)
    assert.equal(report.html.match(/<div class="chart-scroll"><svg [^>]*>(?!<rect)/g)?.length, report.charts);
    // every table sits in a box that scrolls sideways (a phone's page does not widen)
    assert.equal(report.html.match(/<div class="table-wrap"><table/g)?.length, report.html.match(/<table/g)?.length);
    // the error histogram's axis has ticks at 0 and at the ±8 criterion
    const histogram = /<figure class="chart" id="chart-error-histogram".*?<\/figure>/s.exec(report.html)?.[0] ?? '';
    const xLabels = /role-axis-label[^]*?<\/g>/.exec(histogram)?.[0].match(/>[^<]+<\/text>/g)?.map((t) => t.slice(1, -7));
    assert.deepEqual(xLabels, ['−60', '−40', '−20', '−8', '0', '8', '20', '40', '60']);
    // the cleaning chart (log scale) labels each bar with its count (fixture: 39 kept, 1 near duplicate)
    const cleaning = /<figure class="chart" id="chart-cleaning-status".*?<\/figure>/s.exec(report.html)?.[0] ?? '';
    assert.deepEqual(/role-mark.*$/s.exec(cleaning)?.[0].match(/>\d[\d,]*<\/text>/g), ['>39</text>', '>1</text>']);
    // the age histogram's ticks are whole decades, not every 8th bin edge from the youngest age
    const ageSvg = /<figure class="chart" id="chart-age-years".*?<\/figure>/s.exec(report.html)?.[0] ?? '';
    const ageLabels = /role-axis-label[^]*?<\/g>/.exec(ageSvg)?.[0].match(/>[^<]+<\/text>/g)?.map((t) => Number(t.slice(1, -7))) ?? [];
    assert.ok(ageLabels.length >= 5 && ageLabels.every((v) => v % 10 === 0), ageLabels.join(' '));
    // the split legend reads train, val, test, in colours told apart with red–green colour blindness;
    // the scatter plot's legend symbols are opaque (its dots are faint)
    const figure = (id: string): string => new RegExp(`<figure class="chart" id="chart-${id}".*?</figure>`, 's').exec(report.html)?.[0] ?? '';
    const legend = (id: string): string => /role-legend.*$/s.exec(figure(id))?.[0] ?? '';
    assert.deepEqual(legend('split-comparison').match(/>(train|val|test)</g), ['>train<', '>val<', '>test<']);
    assert.deepEqual(legend('split-comparison').match(/fill="#[0-9a-f]{6}"/g)?.slice(0, 3), ['fill="#0072b2"', 'fill="#e69f00"', 'fill="#009e73"']);
    const symbols = legend('predicted-vs-actual').match(/<path transform="translate\(6,6\)"[^>]*>/g) ?? [];
    assert.equal(symbols.length, ETHNICITIES.length);
    assert.ok(symbols.every((p) => p.includes('opacity="1"')), symbols.join('\n'));
    // accuracy–coverage: one panel per age bucket (empty ones too), each with at most two lines (the
    // bucket's and, for reference, all ages'), drawn in Okabe–Ito blue and grey, not ten lines in one plot
    const coverage = figure('gender-accuracy-coverage');
    assert.deepEqual(
      coverage.match(/>ages [^<]+ · \d+ faces</g)?.map((t) => t.slice(6, t.indexOf(' ·'))),
      AGE_BUCKETS.map((b) => b.name),
    );
    const lines = [...coverage.matchAll(/<g class="mark-line role-mark[^>]*>((?:<path[^>]*>)*)/g)].flatMap((m) => m[1]!.match(/<path[^>]*>/g) ?? []);
    assert.ok(lines.length > 0 && lines.length <= 2 * AGE_BUCKETS.length, `lines: ${lines.length}`);
    assert.deepEqual([...new Set(lines.map((l) => /stroke="(#[0-9a-f]+)"/.exec(l)?.[1]))].sort(), ['#0072b2', '#999999']);
    // a thumbnail's alt text names its file; it does not repeat the caption shown under it
    const tiles = [...report.html.matchAll(/<figure class="tile[^"]*" title="([^"]*)"><img [^>]*alt="([^"]*)"[^>]*><figcaption>([^<]*)<\/figcaption>/g)];
    assert.ok(tiles.length > 20, `thumbnails: ${tiles.length}`);
    assert.deepEqual(tiles.filter(([, , alt, caption]) => alt === caption), []);
    assert.ok(tiles.every(([, source, alt]) => alt === `face, file ${source!.split('/').pop()}`), tiles[0]?.[0]);
    assert.ok(!/<script/i.test(report.html), 'self-contained and static');
    assert.ok(!/(src|href)="https?:/i.test(report.html), 'no external resources');
    // the same report without a training log has one chart fewer and says why
    const noLog = await buildReport({ rows, summary: null, evaluation, records, metadata: { ...metadata, command: 'train' }, trainingLog: null, limeCount: 0 });
    assert.equal(noLog.charts, report.charts - 1);
    assert.match(noLog.html, /no training log/);
    assert.match(noLog.html, /near-duplicate of 0\.png/); // pairs from the manifest when summary.json has none
    assert.match(noLog.html, /without<\/b> <code>--balance/);
    assert.doesNotMatch(noLog.html, /perfect model/); // no summary.json, no label agreement to report
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
});

test('balance note reads the recorded setting', () => {
  assert.match(balanceNote({ ...metadata, balance: false, command: 'x --balance' }), /without/);
  assert.match(balanceNote({ ...metadata, balance: { by: 'ethnicity×gender' }, command: 'x' }), /with<\/b>.*ethnicity×gender/);
});

test('label agreement note: the measured disagreement always, the ceiling only from enough pairs', () => {
  const agreement = { pairs: 371, ageEqual: 0.474, ageDifferenceOver8: 0.178, genderDisagree: 0.108 };
  assert.match(labelAgreementNote(agreement, 0.832), /<b>17\.8%<\/b> of 371 pairs.*about <b>89\.8%<\/b>.*this model: 83\.2%/);
  assert.doesNotMatch(labelAgreementNote({ ...agreement, pairs: 10 }, 0.832), /perfect model/);
  assert.match(labelAgreementNote({ ...agreement, pairs: 10 }, 0.832), /17\.8%<\/b> of 10 pairs/);
  assert.equal(labelAgreementNote({ ...agreement, pairs: 0 }, 0.832), '');
  assert.equal(labelAgreementNote(null, 0.832), '');
});

test('training curves come from metadata.training.history when there is no JSONL, counted across stages', async () => {
  const { historyFromMetadata } = await import('../../src/report/build.js');
  const { trainingChart } = await import('../../src/report/charts.js');
  const history = [
    { stage: 1, epoch: 1, epochs: 2, loss: 3, valMae: 20, seconds: 1, lr: 0.1 },
    { stage: 1, epoch: 2, epochs: 2, loss: 2, valMae: 12, seconds: 1, lr: 0.1 },
    { stage: 2, epoch: 1, epochs: 1, loss: 1, valMae: 9, seconds: 1, lr: 0.1 },
  ];
  const log = historyFromMetadata({ ...metadata, training: { history } });
  assert.equal(log?.length, 3);
  const chart = trainingChart(log!)!;
  const values = (chart.spec as unknown as { data: { values: Array<{ epoch: number; metric: string; stage: string }> } }).data.values;
  assert.deepEqual([...new Set(values.map((v) => v.metric))].sort(), ['loss', 'valMae']);
  assert.deepEqual(values.filter((v) => v.metric === 'loss').map((v) => [v.epoch, v.stage]), [
    [1, 'stage 1'],
    [2, 'stage 1'],
    [3, 'stage 2'],
  ]);
  assert.match(await renderSvg(chart.spec), /^<svg/);
  assert.equal(historyFromMetadata(metadata), null);
  // four quantities on a 3-column grid: one x axis per panel, none under the two empty cells
  const four = trainingChart([1, 2, 3].map((epoch) => ({ epoch, a: epoch, b: 1 / epoch, c: 2 * epoch, d: 5 - epoch })))!;
  assert.equal((await renderSvg(four.spec)).match(/>epoch<\/text>/g)?.length, 4);
});

test('cleaning examples: the closest recorded pairs and the farthest near duplicates of the manifest', async () => {
  const row = (i: number, phash: string, status: ManifestRow['status'], duplicateOf: string | null): ManifestRow => ({
    source: `/d/${i}.jpg`, name: `${i}.jpg`, size: 1, sha256: null, phash, width: 200, height: 200, age: 30, gender: 'male', ethnicity: 'White', datetime: null,
    status, reason: status === 'kept' ? '' : 'near-identical to the kept file, same labels', cluster: status === 'kept' ? null : i, duplicateOf, split: status === 'kept' ? 'train' : null,
  });
  // ten kept files, each with a near duplicate 0…9 bits away (pHash 0 vs the low bits set)
  const rows = Array.from({ length: 10 }, (_, i) => [row(i, '0000000000000000', 'kept', null), row(100 + i, ((1 << i) - 1).toString(16).padStart(16, '0'), 'duplicate-near', `/d/${i}.jpg`)]).flat();
  assert.deepEqual(farthestNearPairs(rows, 3).map((p) => p.distance), [9, 8, 7]);
  // prepare records only the closest pairs: 24 at distance 0
  const summary = { files: 20, kept: 10, examplePairs: Array.from({ length: 24 }, (_, i) => ({ a: `/d/${i % 10}.jpg`, b: `/d/x${i}.jpg`, distance: 0 })) } as unknown as SummaryFile;
  const charts = { eda: [], figures: () => '' } as unknown as RenderedCharts;
  const thumbs = new Thumbnails(80, async () => Promise.reject(new Error('no image')));
  const [, , body] = await cleaningSection(rows, summary, charts, thumbs);
  assert.deepEqual(body.match(/pHash distance \d+/g), ['pHash distance 0', 'pHash distance 0', 'pHash distance 0', 'pHash distance 9', 'pHash distance 8', 'pHash distance 7', 'pHash distance 6', 'pHash distance 5']);
});

test('the cleaning chart lists statuses largest first and renders without a Vega-Lite warning', async () => {
  const { edaCharts } = await import('../../src/report/charts.js');
  const eda: Parameters<typeof edaCharts>[0] = {
    kept: 100, statusCounts: [{ status: 'kept', count: 100 }, { status: 'near-duplicate', count: 7 }, { status: 'invalid-label', count: 30 }],
    ageYears: [], ageDecades: [], genderCounts: [], ethnicityGender: [], pyramid: [], splits: [],
  };
  const chart = edaCharts(eda).find((c) => c.id === 'cleaning-status')!;
  const warnings: string[] = [];
  const warn = console.warn;
  console.warn = (...args: unknown[]) => void warnings.push(args.join(' '));
  let svg: string;
  try {
    svg = await renderSvg(chart.spec);
  } finally {
    console.warn = warn;
  }
  assert.deepEqual(warnings, []);
  const at = (s: string): number => svg.indexOf(`>${s}</text>`);
  assert.ok(at('kept') >= 0 && at('kept') < at('invalid-label') && at('invalid-label') < at('near-duplicate'), 'bars ordered by count, largest first');
});
