// Browser end to end: the server on an ephemeral loopback port (real face detector, tiny
// deterministic model, the real LIME explainer with few samples), the page opened in headless
// Chromium, a photo dropped on it; the boxes, labels and explanation overlays must appear.
// Chromium: CHROMIUM_PATH, else /usr/bin/chromium; the test is skipped when there is none.
import { strict as assert } from 'node:assert';
import { existsSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { fileURLToPath } from 'node:url';
import { after, before, describe, it } from 'node:test';
import { chromium, type Browser } from 'playwright-core';
import type { FastifyInstance } from 'fastify';
import { buildServer } from '../../src/server/app.js';
import { limeExplainer } from '../../src/server/lime-explainer.js';
import { loadFaceDetector, type FaceDetector } from '../../src/pipeline/detect.js';
import { fakeModel } from '../fixtures/photos/fake-model.js';

const CHROMIUM = process.env['CHROMIUM_PATH'] ?? '/usr/bin/chromium';
const PHOTOS = new URL('../fixtures/photos/', import.meta.url);
const ARGS = ['--headless', '--no-sandbox', '--disable-gpu', '--disable-background-networking', '--disable-component-update', '--disable-sync', '--no-first-run'];

describe('web page', { skip: existsSync(CHROMIUM) ? false : `no Chromium at ${CHROMIUM}` }, () => {
  let app: FastifyInstance;
  let detector: FaceDetector;
  let browser: Browser;
  let url: string;

  before(async () => {
    detector = await loadFaceDetector();
    app = await buildServer({ model: fakeModel(), detector, explain: limeExplainer({ samples: 40 }) });
    await app.listen({ port: 0, host: '127.0.0.1' });
    const address = app.server.address();
    assert.ok(address && typeof address === 'object');
    url = `http://127.0.0.1:${address.port}/`;
    browser = await chromium.launch({ executablePath: CHROMIUM, args: ARGS });
  });
  after(async () => {
    await browser?.close();
    await app?.close();
    detector?.dispose();
  });

  it('choosing a photo shows each face boxed with age, gender and probability, then the overlays', async () => {
    const page = await browser.newPage();
    try {
      await page.goto(url);
      assert.equal(await page.title(), 'agegender');
      await page.setInputFiles('#file', fileURLToPath(new URL('three-faces.jpg', PHOTOS)));
      await page.waitForSelector('.face-box', { timeout: 60_000 });
      await page.waitForFunction(() => document.querySelectorAll('.face-box').length === 3, undefined, { timeout: 60_000 });
      const labels = await page.$$eval('.face-label', (els) => els.map((e) => e.textContent ?? ''));
      assert.equal(labels.length, 3);
      for (const l of labels) assert.match(l, /^#\d age \d+ \(\d+–\d+\) · (male|female) \d+%$/);
      // Boxes are scaled onto the displayed photo and lie inside it.
      const inside = await page.$$eval('.face-box', (els) => {
        const img = document.getElementById('photo') as HTMLImageElement;
        return els.every((e) => {
          const b = e.getBoundingClientRect();
          const p = img.getBoundingClientRect();
          return b.width > 10 && b.left >= p.left - 1 && b.right <= p.right + 1 && b.top >= p.top - 1 && b.bottom <= p.bottom + 1;
        });
      });
      assert.ok(inside, 'every box lies on the photo');
      // The explanation overlays arrive as PNG data URLs, one per face.
      await page.waitForFunction(() => Array.from(document.querySelectorAll('img.overlay')).filter((i) => (i as HTMLImageElement).src.startsWith('data:image/png')).length === 3, undefined, { timeout: 120_000 });
      assert.match((await page.textContent('#status')) ?? '', /explanation of gender shown for 3/);
    } finally {
      await page.close();
    }
  });

  it('dropping a photo (a drop event with a DataTransfer) works the same; no face says so', async () => {
    const page = await browser.newPage();
    try {
      await page.goto(url);
      const drop = async (file: string): Promise<void> => {
        const b64 = (await readFile(new URL(file, PHOTOS))).toString('base64');
        await page.evaluate(
          ({ b64, name }) => {
            const bytes = Uint8Array.from(atob(b64), (c) => c.charCodeAt(0));
            const dt = new DataTransfer();
            dt.items.add(new File([bytes], name, { type: 'image/jpeg' }));
            const zone = document.getElementById('drop')!;
            zone.dispatchEvent(new DragEvent('dragover', { dataTransfer: dt, bubbles: true, cancelable: true }));
            zone.dispatchEvent(new DragEvent('drop', { dataTransfer: dt, bubbles: true, cancelable: true }));
          },
          { b64, name: file },
        );
      };
      await drop('many-faces.jpg');
      await page.waitForFunction(() => document.querySelectorAll('.face-box').length === 7, undefined, { timeout: 60_000 });
      const labels = await page.$$eval('.face-label', (els) => els.map((e) => e.textContent ?? ''));
      assert.equal(labels.length, 7);
      assert.ok(labels.every((l) => /^#\d age \d+ .*(male|female) \d+%$/.test(l)));
      await drop('no-face.jpg');
      await page.waitForFunction(() => document.getElementById('status')!.textContent === 'No face found.', undefined, { timeout: 60_000 });
      assert.equal(await page.$$eval('.face-box', (els) => els.length), 0);
    } finally {
      await page.close();
    }
  });

  it('a file that is not an image shows the server error', async () => {
    const page = await browser.newPage();
    try {
      await page.goto(url);
      await page.setInputFiles('#file', { name: 'notes.txt', mimeType: 'text/plain', buffer: Buffer.from('hello') });
      await page.waitForFunction(() => document.getElementById('status')!.className === 'error', undefined, { timeout: 30_000 });
      assert.match((await page.textContent('#status')) ?? '', /not a supported image/);
    } finally {
      await page.close();
    }
  });
});
