// The report's page in headless Chromium: printed, the folded slice tables are printed, not just their
// one-line summaries; on a phone, a chart or table wider than the screen shows a shadow at the edge it
// hides content past.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync } from 'node:fs';
import sharp from 'sharp';
import { chromium, type Locator } from 'playwright-core';
import { ETHNICITIES, GENDERS } from '../../src/core/types.js';
import { mulberry32 } from '../../src/core/random.js';
import { summarise, type PredictionRecord } from '../../src/eval/evaluate.js';
import type { AgeGenderModel } from '../../src/model/api.js';
import { REPORT_CSS, table } from '../../src/report/html.js';
import { slicesSection } from '../../src/report/sections.js';

const CHROMIUM = process.env.AGEGENDER_CHROMIUM ?? '/usr/bin/chromium';

const model = {
  runtime: 'test',
  genderThreshold: 0.5,
  metadata: { formatVersion: 1, name: 'print-test', encoder: 'none', inputSize: 200, createdAt: '2026-01-01T00:00:00Z', command: 'test', datasetManifestHash: null, metrics: {} },
} as unknown as AgeGenderModel;

function slicesPage(): string {
  const rand = mulberry32(3);
  const records: PredictionRecord[] = Array.from({ length: 300 }, (_, i) => {
    const age = 1 + Math.floor(rand() * 85);
    const gender = GENDERS[i % 2]!;
    return { source: `/faces/${i}.jpg`, name: `${i}.jpg`, age, gender, ethnicity: ETHNICITIES[i % 5]!, predictedAge: age + (rand() - 0.5) * 16, femaleProbability: gender === 'female' ? 0.4 + rand() * 0.6 : rand() * 0.6, ageInterval: [age - 5, age + 5] };
  });
  const evaluation = summarise(records, { split: 'test', model, rows: records.length, skipped: [], replicates: 20, seed: 1, minGroupSize: 5, bestWorstCount: 2, now: () => new Date('2026-01-02T00:00:00Z') });
  const [, title, body] = slicesSection(evaluation);
  return `<!doctype html><html lang="en"><head><meta charset="utf-8"><title>${title}</title><style>${REPORT_CSS}</style></head><body><h2>${title}</h2>${body}</body></html>`;
}

test('printed, the folded slice tables print open; on screen they stay folded', { timeout: 60_000 }, async () => {
  assert.ok(existsSync(CHROMIUM), `Chromium not found at ${CHROMIUM} (install Debian's chromium or set AGEGENDER_CHROMIUM)`);
  const html = slicesPage();
  const browser = await chromium.launch({ executablePath: CHROMIUM, args: ['--headless', '--no-sandbox', '--disable-gpu'] });
  try {
    const page = await browser.newPage({ viewport: { width: 1000, height: 800 } });
    await page.setContent(html, { waitUntil: 'load' });
    // checkVisibility: false inside a folded <details> (its content is content-visibility: hidden)
    const folded = (): Promise<Array<{ open: boolean; shown: boolean }>> =>
      page.evaluate(() => Array.from(document.querySelectorAll('details')).map((d) => ({ open: d.open, shown: d.querySelector('table')!.checkVisibility() })));
    const onScreen = await folded();
    assert.ok(onScreen.length >= 2, `folded tables: ${onScreen.length}`);
    assert.deepEqual(onScreen.map((d) => d.open || d.shown), onScreen.map(() => false), 'on screen the tables are folded');

    await page.emulateMedia({ media: 'print' });
    const printed = await folded();
    assert.deepEqual(printed, printed.map(() => ({ open: false, shown: true })), 'printed, the folded tables are shown');
    // the PDF holds as many pages as the same page with every <details> opened by hand
    const pages = async (): Promise<number> => (await page.pdf({ format: 'A4' })).toString('latin1').match(/\/Type\s*\/Page\b/g)?.length ?? 0;
    const asPrinted = await pages();
    await page.evaluate(() => document.querySelectorAll('details').forEach((d) => (d.open = true)));
    const allOpen = await pages();
    assert.ok(allOpen > 1, `pages with every table open: ${allOpen}`);
    assert.equal(asPrinted, allOpen);
  } finally {
    await browser.close();
  }
});

/** Grey level (0 black … 255 white) of the pixel `fromRight` pixels inside the right (or left) edge of the element, `y` pixels down. */
async function edgeGrey(box: Locator, side: 'left' | 'right', y: number): Promise<number> {
  const { data, info } = await sharp(await box.screenshot()).greyscale().raw().toBuffer({ resolveWithObject: true });
  const x = side === 'left' ? 1 : info.width - 2;
  return data[y * info.width * info.channels + x * info.channels]!;
}

test('on a phone, a chart or table wider than the screen shows a shadow at the edge it hides content past', { timeout: 60_000 }, async () => {
  assert.ok(existsSync(CHROMIUM), `Chromium not found at ${CHROMIUM} (install Debian's chromium or set AGEGENDER_CHROMIUM)`);
  // a chart as the report places it (an SVG with no background of its own, blank along its top) and a wide table
  const chart = `<figure class="chart"><figcaption><b>Wide</b>A wide chart.</figcaption><div class="chart-scroll"><svg xmlns="http://www.w3.org/2000/svg" width="900" height="120"><rect y="20" width="900" height="100" fill="#4c78a8"/></svg></div></figure>`;
  const wide = table(Array.from({ length: 14 }, (_, i) => `column ${i}`), [Array.from({ length: 14 }, (_, i) => String(i * 1000))]);
  const narrow = table(['a', 'b'], [['1', '2']]);
  const html = `<!doctype html><html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1"><title>t</title><style>${REPORT_CSS}</style></head><body>${chart}${wide}${narrow}</body></html>`;
  const browser = await chromium.launch({ executablePath: CHROMIUM, args: ['--headless', '--no-sandbox', '--disable-gpu'] });
  try {
    const page = await browser.newPage({ viewport: { width: 375, height: 800 } });
    await page.setContent(html, { waitUntil: 'load' });
    const [scrollingChart, wideTable, narrowTable] = [page.locator('.chart-scroll'), page.locator('.table-wrap').nth(0), page.locator('.table-wrap').nth(1)];
    for (const box of [scrollingChart, wideTable]) {
      // at the start: a shadow on the right, none on the left; scrolled to the end: the other way round
      assert.ok((await edgeGrey(box, 'right', 3)) < 215 && (await edgeGrey(box, 'left', 3)) > 250, 'shadow on the right only');
      await box.evaluate((e) => e.scrollTo({ left: e.scrollWidth }));
      assert.ok((await edgeGrey(box, 'right', 3)) > 250 && (await edgeGrey(box, 'left', 3)) < 215, 'shadow on the left only');
    }
    // a table that fits has no shadow
    assert.ok((await edgeGrey(narrowTable, 'right', 3)) > 250 && (await edgeGrey(narrowTable, 'left', 3)) > 250);
  } finally {
    await browser.close();
  }
});
