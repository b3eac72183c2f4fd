// End to end: a tiny workspace from real UTKFace chips → evaluate → report.html (evaluation reused the
// second time) → headless Chromium.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, readdirSync } from 'node:fs';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { chromium } from 'playwright-core';
import type { AgeGenderPrediction, ManifestRow } from '../../src/core/types.js';
import { parseUtkName } from '../../src/data/labels.js';
import { loadImageInput } from '../../src/io/decode.js';
import type { ImageInput, RawImage } from '../../src/io/types.js';
import type { AgeGenderModel } from '../../src/model/api.js';
import { reportWorkspace } from '../../src/workflow/report.js';

const UTKFACE = resolve(process.env.AGEGENDER_UTKFACE_DIR ?? resolve(process.cwd(), '../shared/datasets/utkface'));
const CHROMIUM = process.env.AGEGENDER_CHROMIUM ?? '/usr/bin/chromium';

/** A deterministic stand-in network: age from brightness, P(female) from redness. */
function testModel(): AgeGenderModel {
  const score = (img: RawImage): { age: number; femaleProbability: number } => {
    let sum = 0;
    let red = 0;
    for (let i = 0; i < img.data.length; i += 3) {
      sum += img.data[i]! + img.data[i + 1]! + img.data[i + 2]!;
      red += img.data[i]! - img.data[i + 2]!;
    }
    const n = img.data.length / 3;
    return { age: 5 + (60 * sum) / (n * 765), femaleProbability: 1 / (1 + Math.exp(-(red / n - 30) / 10)) };
  };
  const predict = async (input: ImageInput): Promise<AgeGenderPrediction> => {
    const s = score(await loadImageInput(input));
    const female = s.femaleProbability >= 0.5;
    return { age: s.age, ageInterval: [s.age - 6, s.age + 6], gender: female ? 'female' : 'male', genderProbability: female ? s.femaleProbability : 1 - s.femaleProbability, femaleProbability: s.femaleProbability };
  };
  return {
    runtime: 'test',
    genderThreshold: 0.5,
    metadata: { formatVersion: 1, name: 'e2e-test-model', encoder: 'brightness', inputSize: 200, createdAt: '2026-01-01T00:00:00Z', command: 'test', datasetManifestHash: null, metrics: {} },
    predict,
    predictBatch: async (images) => Promise.all(images.map(predict)),
    scoreRaw: async (images) => images.map(score),
    dispose: () => undefined,
  };
}

test('report.html opens in headless Chromium with every chart rendered and no console errors', { timeout: 240_000 }, async () => {
  const utk = join(UTKFACE, 'UTKFace');
  assert.ok(existsSync(utk), `UTKFace not found at ${utk}: set AGEGENDER_UTKFACE_DIR to the folder holding UTKFace/`);
  const dir = await mkdtemp(join(tmpdir(), 'agegender-e2e-'));
  try {
    const names = readdirSync(utk).filter((n) => n.endsWith('.jpg')).sort();
    const picked = names.filter((_, i) => i % Math.floor(names.length / 48) === 0).slice(0, 48);
    const rows: ManifestRow[] = picked.map((name, i) => {
      const parsed = parseUtkName(name);
      const labels = parsed.ok ? parsed.labels : null;
      const split = i % 4 === 0 ? 'train' : i % 4 === 1 ? 'val' : 'test';
      return {
        source: join(utk, name), name, size: 0, sha256: null, phash: null, width: 200, height: 200,
        age: labels?.age ?? null, gender: labels?.gender ?? null, ethnicity: labels?.ethnicity ?? null, datetime: null,
        status: labels ? 'kept' : 'invalid-label', reason: parsed.ok ? '' : parsed.reason, cluster: null, duplicateOf: null, split: labels ? split : null,
      };
    });
    // one unreadable test image: reported and skipped, not fatal
    rows.push({ ...rows[2]!, source: join(dir, 'missing.jpg'), name: '30_0_0_20170101000000000.jpg.chip.jpg', age: 30, gender: 'male', ethnicity: 'White', status: 'kept', split: 'test' });
    const workspace = join(dir, 'ws');
    await import('node:fs/promises').then((fs) => fs.mkdir(workspace));
    await writeFile(join(workspace, 'manifest.jsonl'), rows.map((r) => JSON.stringify(r)).join('\n') + '\n');
    await writeFile(join(workspace, 'summary.json'), JSON.stringify({ files: rows.length, kept: rows.filter((r) => r.status === 'kept').length }));
    const out = join(dir, 'report.html');
    const lines: string[] = [];
    const report = await reportWorkspace({ workspace, split: 'test', out, limeCount: 1, limeSamples: 60, model: testModel(), log: (l) => lines.push(l) });
    assert.equal(report.out, out);
    assert.deepEqual(lines, ['evaluating the test split…']);
    const evaluation = JSON.parse(await readFile(join(workspace, 'evaluation', 'test', 'evaluation.json'), 'utf8')) as { counts: { skipped: number; evaluated: number } };
    assert.equal(evaluation.counts.skipped, 1);
    // a second build reuses the cached evaluation
    await reportWorkspace({ workspace, split: 'test', out, limeCount: 0, limeSamples: 60, model: testModel(), log: (l) => lines.push(l) });
    assert.equal(lines[1], `reusing ${join(workspace, 'evaluation', 'test', 'evaluation.json')}`);

    assert.ok(existsSync(CHROMIUM), `Chromium not found at ${CHROMIUM} (install Debian's chromium or set AGEGENDER_CHROMIUM)`);

    const browser = await chromium.launch({
      executablePath: CHROMIUM,
      args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-background-networking', '--disable-component-update', '--disable-sync', '--no-first-run'],
    });
    try {
      const page = await browser.newPage();
      const errors: string[] = [];
      page.on('console', (m) => {
        if (m.type() === 'error') errors.push(m.text());
      });
      page.on('pageerror', (e) => errors.push(e.message));
      page.on('requestfailed', (r) => errors.push(`request failed: ${r.url()}`));
      await page.goto(`file://${out}`, { waitUntil: 'load' });
      const stats = await page.evaluate(() => {
        const declared = Number(document.querySelector('meta[name="agegender-charts"]')?.getAttribute('content'));
        const svgs = Array.from(document.querySelectorAll('svg'));
        const sized = svgs.filter((s) => {
          const box = s.getBoundingClientRect();
          return box.width > 50 && box.height > 50 && s.querySelectorAll('path, rect, line, text').length > 3;
        }).length;
        const inCharts = document.querySelectorAll('figure.chart > .chart-scroll > svg').length;
        const images = Array.from(document.images);
        const broken = images.filter((i) => !i.complete || i.naturalWidth === 0).length;
        return { declared, svgs: svgs.length, sized, inCharts, images: images.length, broken, shown: document.getElementById('chart-count')?.textContent };
      });
      assert.equal(stats.svgs, stats.declared, `svg elements ${stats.svgs} vs declared charts ${stats.declared}`);
      assert.equal(stats.declared, report.charts);
      assert.equal(stats.sized, stats.svgs, 'every chart has a visible size and marks');
      assert.equal(stats.inCharts, stats.svgs);
      assert.equal(stats.shown, String(report.charts));
      assert.ok(stats.images > 20, `thumbnails: ${stats.images}`);
      assert.equal(stats.broken, 0, 'every embedded image decodes');
      assert.deepEqual(errors, []);

      // on a phone the page does not scroll sideways (wide tables and charts scroll in their own box)
      // and the table of contents is one column
      await page.setViewportSize({ width: 390, height: 844 });
      const phone = await page.evaluate(() => ({
        pageWidth: document.documentElement.scrollWidth,
        tocColumns: getComputedStyle(document.querySelector('nav ul')!).columnCount,
        tables: document.querySelectorAll('table').length,
      }));
      assert.ok(phone.tables > 5, `tables: ${phone.tables}`);
      assert.deepEqual({ pageWidth: phone.pageWidth, tocColumns: phone.tocColumns }, { pageWidth: 390, tocColumns: '1' });
      // printed on A4 (about 720 CSS px between the margins) no chart is cut off at the right edge
      await page.setViewportSize({ width: 720, height: 1000 });
      await page.emulateMedia({ media: 'print' });
      const clipped = await page.evaluate(() =>
        Array.from(document.querySelectorAll('figure.chart')).filter((f) => f.querySelector('svg')!.getBoundingClientRect().right > f.getBoundingClientRect().right + 1).map((f) => f.id),
      );
      assert.deepEqual(clipped, []);
      assert.ok((await page.pdf({ format: 'A4' })).subarray(0, 5).toString() === '%PDF-');
    } finally {
      await browser.close();
    }
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
});
