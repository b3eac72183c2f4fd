// Browser end to end: the server on an ephemeral loopback port (real face detector, tiny
// deterministic models, the real LIME explainer with few samples), the page opened in headless
// Chromium, a photo chosen or dropped on it; the boxes, labels, face list and explanation overlays
// must appear, fit a phone (390×844) and a desktop (1280×900) viewport, follow a resize, be reachable
// by keyboard, and run under a strict Content-Security-Policy without a violation.
// Chromium: CHROMIUM_PATH, else /usr/bin/chromium; the test is skipped when there is none.
// AGEGENDER_SCREENSHOTS=<folder> saves a screenshot of each layout checked there.
import { strict as assert } from 'node:assert';
import { existsSync } from 'node:fs';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { after, before, describe, it } from 'node:test';
import { chromium, type Browser, type FileChooser, type Page } from 'playwright-core';
import sharp from 'sharp';
import type { FastifyInstance } from 'fastify';
import { buildServer, type ExplainFn } from '../../src/server/app.js';
import { limeExplainer } from '../../src/server/lime-explainer.js';
import { loadFaceDetector, type FaceDetector } from '../../src/pipeline/detect.js';
import type { AgeGenderModel } from '../../src/model/api.js';
import { fakeModel } from '../fixtures/photos/fake-model.js';

const CHROMIUM = process.env['CHROMIUM_PATH'] ?? '/usr/bin/chromium';
const SHOTS = process.env['AGEGENDER_SCREENSHOTS'];
const PHOTOS = new URL('../fixtures/photos/', import.meta.url);
const ARGS = ['--headless', '--no-sandbox', '--disable-gpu', '--disable-background-networking', '--disable-component-update', '--disable-sync', '--no-first-run'];
const PHONE = { width: 390, height: 844 };
const DESKTOP = { width: 1280, height: 900 };
/** Stricter than helmet's default (no 'unsafe-inline' styles, no https: sources). */
const STRICT_CSP = "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; object-src 'none'; base-uri 'self'; form-action 'self'; frame-ancestors 'none'";
const LABEL = /^#\d age \d+ \(\d+–\d+\) · ((male|female) (\d+%|> 99%|< 1%)|gender uncertain( \(female \S+\))?)$/;

/** The fake model, but every face is female with probability 0.9993: shows as "> 99%". */
function sureModel(): AgeGenderModel {
  const base = fakeModel();
  const predictBatch: AgeGenderModel['predictBatch'] = async (images) =>
    (await base.predictBatch(images)).map((p) => ({ ...p, gender: 'female' as const, genderProbability: 0.9993, femaleProbability: 0.9993 }));
  return { ...base, predictBatch, predict: async (image) => (await predictBatch([image]))[0]! };
}

async function serve(model: AgeGenderModel, detector: FaceDetector | null, explain: ExplainFn | null): Promise<{ app: FastifyInstance; url: string }> {
  const app = await buildServer({ model, detector, explain });
  await app.listen({ port: 0, host: '127.0.0.1' });
  const address = app.server.address();
  assert.ok(address && typeof address === 'object');
  return { app, url: `http://127.0.0.1:${address.port}/` };
}

/** Drops a fixture photo on the drop zone, or on the element `on` (a drop event with a DataTransfer, as a real drag gives). */
async function dropPhoto(page: Page, file: string | readonly string[], on = 'drop'): Promise<void> {
  const files = await Promise.all((typeof file === 'string' ? [file] : file).map(async (name) => ({ name, b64: (await readFile(new URL(name, PHOTOS))).toString('base64') })));
  await page.evaluate(
    ({ files, on }) => {
      const dt = new DataTransfer();
      for (const { name, b64 } of files) dt.items.add(new File([Uint8Array.from(atob(b64), (c) => c.charCodeAt(0))], name, { type: 'image/jpeg' }));
      const zone = document.getElementById(on)!;
      zone.dispatchEvent(new DragEvent('dragover', { dataTransfer: dt, bubbles: true, cancelable: true }));
      zone.dispatchEvent(new DragEvent('drop', { dataTransfer: dt, bubbles: true, cancelable: true }));
    },
    { files, on },
  );
}

interface Layout {
  scrollWidth: number;
  innerWidth: number;
  boxesOnPhoto: boolean;
  labels: Array<{ text: string; left: number; right: number; top: number; bottom: number; fontPx: number }>;
  overlaps: number;
  list: string[];
  firstBoxWidth: number;
}

/** What the reader sees: page overflow, labels' places (viewport coordinates), the face list. */
async function measure(page: Page): Promise<Layout> {
  return page.evaluate(() => {
    const photo = document.getElementById('photo')!.getBoundingClientRect();
    const boxes = Array.from(document.querySelectorAll('.face-box')).map((e) => e.getBoundingClientRect());
    const rects = Array.from(document.querySelectorAll('.face-label')).map((e) => ({ r: e.getBoundingClientRect(), text: e.textContent ?? '', fontPx: parseFloat(getComputedStyle(e).fontSize) }));
    let overlaps = 0;
    rects.forEach((a, i) => rects.slice(i + 1).forEach((b) => {
      if (a.r.left < b.r.right && b.r.left < a.r.right && a.r.top < b.r.bottom && b.r.top < a.r.bottom) overlaps++;
    }));
    return {
      scrollWidth: document.documentElement.scrollWidth,
      innerWidth: window.innerWidth,
      boxesOnPhoto: boxes.every((b) => b.width > 3 && b.left >= photo.left - 1 && b.right <= photo.right + 1 && b.top >= photo.top - 1 && b.bottom <= photo.bottom + 1),
      labels: rects.map(({ r, text, fontPx }) => ({ text, left: r.left, right: r.right, top: r.top, bottom: r.bottom, fontPx })),
      overlaps,
      list: Array.from(document.querySelectorAll('.face-card .face-text')).map((e) => e.textContent ?? ''),
      firstBoxWidth: boxes[0]?.width ?? 0,
    };
  });
}

/** The layout rules at any size: no sideways scroll, boxes on the photo, labels readable, every face listed in full. */
function assertReadable(l: Layout, faces: number, where: string): void {
  assert.ok(l.scrollWidth <= l.innerWidth, `${where}: no horizontal overflow (scrollWidth ${l.scrollWidth} > ${l.innerWidth})`);
  assert.ok(l.boxesOnPhoto, `${where}: every box lies on the photo`);
  assert.equal(l.overlaps, 0, `${where}: no two labels overlap`);
  for (const lab of l.labels) {
    assert.ok(lab.left >= 0 && lab.right <= l.innerWidth, `${where}: label "${lab.text}" inside the viewport`);
    assert.ok(lab.fontPx >= 11, `${where}: label font ${lab.fontPx}px`);
    assert.match(lab.text, /^(\d+|#\d .+)$/);
  }
  assert.ok(l.labels.length >= Math.ceil(faces / 2), `${where}: most faces keep a label on the photo (${l.labels.length}/${faces})`);
  assert.equal(l.list.length, faces, `${where}: every face in the list`);
  for (const t of l.list) assert.match(t, LABEL);
}

describe('web page', { skip: existsSync(CHROMIUM) ? false : `no Chromium at ${CHROMIUM}` }, () => {
  let detector: FaceDetector;
  let browser: Browser;
  let lime: { app: FastifyInstance; url: string };
  let sure: { app: FastifyInstance; url: string };
  let plain: { app: FastifyInstance; url: string };

  before(async () => {
    detector = await loadFaceDetector();
    lime = await serve(fakeModel(), detector, limeExplainer({ samples: 40 }));
    sure = await serve(sureModel(), detector, null);
    plain = await serve(fakeModel(), detector, null);
    browser = await chromium.launch({ executablePath: CHROMIUM, args: ARGS });
  });
  after(async () => {
    await browser?.close();
    await lime?.app.close();
    await sure?.app.close();
    await plain?.app.close();
    detector?.dispose();
  });

  const withPage = async (size: { width: number; height: number }, fn: (page: Page) => Promise<void>): Promise<void> => {
    const page = await browser.newPage({ viewport: size });
    try {
      await fn(page);
    } finally {
      await page.close();
    }
  };
  const shot = async (page: Page, name: string): Promise<void> => {
    if (SHOTS) await page.screenshot({ path: join(SHOTS, `${name}.png`), fullPage: true });
  };

  it('choosing a photo shows each face boxed and listed with age, gender and probability, then the overlays', () =>
    withPage(DESKTOP, async (page) => {
      await page.goto(lime.url);
      assert.equal(await page.title(), 'agegender');
      await page.setInputFiles('#file', fileURLToPath(new URL('three-faces.jpg', PHOTOS)));
      await page.waitForFunction(() => document.querySelectorAll('.face-box').length === 3, undefined, { timeout: 60_000 });
      const layout = await measure(page);
      assertReadable(layout, 3, '1280×900, three faces');
      assert.equal(layout.labels.filter((l) => l.text.startsWith('#')).length, 3, 'on a desktop, three separate faces keep their full labels');
      await page.waitForFunction(() => Array.from(document.querySelectorAll('img.overlay')).filter((i) => (i as HTMLImageElement).src.startsWith('data:image/png')).length === 3, undefined, { timeout: 120_000 });
      assert.match((await page.textContent('#status')) ?? '', /explanation of gender shown for 3/);
    }));

  for (const [name, size] of [['390×844', PHONE], ['1280×900', DESKTOP]] as const) {
    it(`at ${name}: seven faces fit, labels readable and apart, "> 99%" shown, no face gives the hint`, () =>
      withPage(size, async (page) => {
        await page.goto(sure.url);
        assert.ok((await measure(page)).scrollWidth <= size.width, 'the empty page fits');
        await dropPhoto(page, 'many-faces.jpg');
        await page.waitForFunction(() => document.querySelectorAll('.face-card').length === 7, undefined, { timeout: 60_000 });
        const layout = await measure(page);
        assertReadable(layout, 7, name);
        assert.ok(layout.list.every((t) => t.endsWith('female > 99%')), layout.list.join('\n'));
        assert.ok(!(await page.content()).includes('100%'), 'never "100%"');
        await shot(page, `many-faces-${size.width}`);
        await dropPhoto(page, 'no-face.jpg');
        await page.waitForFunction(() => /^No (face found|usable face)/.test(document.getElementById('status')!.textContent ?? ''), undefined, { timeout: 60_000 });
        assert.match((await page.textContent('#status')) ?? '', /tight face crop.*untick “detect faces”/);
        assert.equal(await page.$$eval('.face-box', (els) => els.length), 0);
        assert.equal(await page.getAttribute('#photo', 'alt'), 'the photo chosen', 'the alt text no longer says 7 faces are boxed');
      }));
  }

  it('several files dropped at once: the first is analysed, and the status says the others were not', () =>
    withPage(DESKTOP, async (page) => {
      await page.goto(sure.url);
      await dropPhoto(page, ['three-faces.jpg', 'no-face.jpg', 'many-faces.jpg']);
      await page.waitForFunction(() => document.querySelectorAll('.face-card').length === 3, undefined, { timeout: 60_000 });
      await page.waitForFunction(() => /files dropped/.test(document.getElementById('status')!.textContent ?? ''), undefined, { timeout: 30_000 });
      assert.match(await page.textContent('#status') ?? '', /3 faces.*\(only the first of the 3 files dropped, three-faces\.jpg, is analysed: drop one at a time\)/);
    }));

  it('boxes and labels are recomputed when the window shrinks from desktop to phone width', () =>
    withPage(DESKTOP, async (page) => {
      await page.goto(sure.url);
      await dropPhoto(page, 'three-faces.jpg');
      await page.waitForFunction(() => document.querySelectorAll('.face-card').length === 3, undefined, { timeout: 60_000 });
      const wide = await measure(page);
      await page.setViewportSize(PHONE);
      await page.waitForFunction((w) => {
        const b = document.querySelector('.face-box');
        return b !== null && b.getBoundingClientRect().width < w * 0.6;
      }, wide.firstBoxWidth, { timeout: 10_000 });
      const narrow = await measure(page);
      assertReadable(narrow, 3, 'after the resize');
      await shot(page, 'three-faces-resized-390');
    }));

  it('the upload control is a named button reached by Tab; Enter and Space open the file chooser', () =>
    withPage(PHONE, async (page) => {
      // Listening before the page loads turns Chromium's file-chooser interception on in time.
      const choosers: FileChooser[] = [];
      page.on('filechooser', (fc) => choosers.push(fc));
      await page.goto(lime.url); // a server with an explainer: the page offers "Explain"
      const button = page.getByRole('button', { name: /choose a photo/i });
      assert.equal(await button.count(), 1);
      let reached = false;
      for (let i = 0; i < 5 && !reached; i++) {
        await page.keyboard.press('Tab');
        reached = await page.evaluate(() => document.activeElement?.id === 'drop');
      }
      assert.ok(reached, 'Tab reaches the upload button');
      for (const key of ['Enter', 'Space']) {
        const before = choosers.length;
        await page.keyboard.press(key);
        for (let t = 0; t < 50 && choosers.length === before; t++) await new Promise((resolve) => setTimeout(resolve, 100));
        assert.equal(choosers.length, before + 1, `${key} on the focused button opens the file chooser`);
        assert.equal(choosers[before]!.isMultiple(), false);
        await choosers[before]!.setFiles([]); // closes the chooser, so the next key can open it again
      }
      assert.equal(choosers.length, 2, 'Tab alone opened nothing');
      assert.ok((await page.getByRole('checkbox', { name: /detect faces/i }).count()) === 1, 'the checkbox has a name');
      assert.ok((await page.getByRole('combobox', { name: /explain/i }).count()) === 1, 'the select has a name');
    }));

  it('?genderThreshold= on the page reaches the API: faces under it read "gender uncertain", with the probability', () =>
    withPage(PHONE, async (page) => {
      const faces = async (query: string): Promise<string[]> => {
        await page.goto(`${plain.url}${query}`);
        await dropPhoto(page, 'three-faces.jpg');
        await page.waitForFunction(() => document.querySelectorAll('.face-card').length === 3, undefined, { timeout: 60_000 });
        return (await measure(page)).list;
      };
      const answered = await faces('');
      assert.ok(answered.every((t) => / · (male|female) \d+%$/.test(t)), answered.join('\n'));
      const abstained = await faces('?genderThreshold=0.99');
      assert.ok(abstained.every((t) => / · gender uncertain \(female \d+%\)$/.test(t)), abstained.join('\n'));
      assert.deepEqual(abstained.map((t) => t.split(' · ')[0]), answered.map((t) => t.split(' · ')[0]), 'the same faces and ages');
      // the panel states the threshold in use, and the model's own
      assert.match((await page.textContent('#abstention')) ?? '', /reaches 99% \(set by \?genderThreshold= in this page's address; the model's own is [\d.]+%\)/);
      // a value that is not a threshold is ignored, said so once; uploads still work (at the model's threshold)
      for (const bad of ['abc', '2', '']) {
        const ignored = await faces(`?genderThreshold=${bad}`);
        assert.deepEqual(ignored, answered, `?genderThreshold=${bad}`);
        assert.match((await page.textContent('#threshold-note')) ?? '', /is not a decimal number from 0\.5 to 1: it is ignored; the model's threshold is used/);
      }
    }));

  it('an abstention shows "gender uncertain"; 422 NO_USABLE_FACE shows its message and the hint', () =>
    withPage(PHONE, async (page) => {
      // The API's answers are replaced here, so the page's rendering is tested whatever the model says.
      let answer: { status: number; body: unknown } = { status: 200, body: null };
      await page.route('**/v1/predict**', (route) => route.fulfill({ status: answer.status, contentType: 'application/json', body: JSON.stringify(answer.body) }));
      const face = (gender: string, p: number) => ({ box: { x: 100, y: 150, width: 250, height: 250 }, score: 0.99, age: 31.4, ageInterval: [26.2, 37.9], gender, genderProbability: p, femaleProbability: 1 - p });
      answer = { status: 200, body: { width: 1000, height: 700, detect: true, faces: [face('uncertain', 0.56), face('male', 0.002)], model: 'm', ms: 5 } };
      await page.goto(sure.url);
      await dropPhoto(page, 'three-faces.jpg');
      await page.waitForFunction(() => document.querySelectorAll('.face-card').length === 2, undefined, { timeout: 30_000 });
      const layout = await measure(page);
      assert.deepEqual(layout.list, ['#1 age 31 (26–38) · gender uncertain (female 44%)', '#2 age 31 (26–38) · male < 1%']);
      assert.match((await page.textContent('#status')) ?? '', /^2 faces/);
      // a server that kept only its --max-faces highest-scoring faces: the status says how many there were
      answer = { status: 200, body: { width: 1000, height: 700, detect: true, facesFound: 5, faces: [face('female', 0.9), face('male', 0.1)], model: 'm', ms: 5 } };
      await dropPhoto(page, 'three-faces.jpg');
      await page.waitForFunction(() => /^2 of 5 faces/.test(document.getElementById('status')!.textContent ?? ''), undefined, { timeout: 30_000 });
      assert.match((await page.textContent('#status')) ?? '', /^2 of 5 faces \(the highest-scoring; the server lists at most 2\)/);
      answer = { status: 422, body: { error: { code: 'NO_USABLE_FACE', message: 'no usable face: the faces found are too small or blurred to read' } } };
      await dropPhoto(page, 'three-faces.jpg');
      await page.waitForFunction(() => /^No usable face/.test(document.getElementById('status')!.textContent ?? ''), undefined, { timeout: 30_000 });
      assert.match((await page.textContent('#status')) ?? '', /^No usable face: the faces found are too small or blurred to read\. .*untick “detect faces”/, 'the API\'s own prefix is not repeated');
      assert.equal(await page.$$eval('.face-card', (els) => els.length), 0);
    }));

  for (const [name, policy] of [['the served', null], ['a strict', STRICT_CSP]] as const) {
    it(`under ${name} Content-Security-Policy the page works with no violation and no console error`, () =>
      withPage(PHONE, async (page) => {
        let served = '';
        await page.route(lime.url, async (route) => {
          const res = await route.fetch();
          served = res.headers()['content-security-policy'] ?? '';
          await route.fulfill({ response: res, headers: policy === null ? res.headers() : { ...res.headers(), 'content-security-policy': policy } });
        });
        const errors: string[] = [];
        page.on('console', (m) => {
          if (m.type() === 'error' || /Content Security Policy/i.test(m.text())) errors.push(m.text());
        });
        await page.addInitScript(() => {
          const w = window as unknown as { cspViolations: string[] };
          w.cspViolations = [];
          document.addEventListener('securitypolicyviolation', (e) => w.cspViolations.push(`${e.violatedDirective} ${e.blockedURI}`));
        });
        await page.goto(lime.url);
        assert.match(served, /script-src 'self'(;|$)/, 'the server sends a CSP');
        assert.doesNotMatch(served, /unsafe-inline|unsafe-eval|upgrade-insecure-requests/, 'without exceptions for inline code, and usable over plain http');
        assert.equal(await page.evaluate(() => getComputedStyle(document.getElementById('drop')!).borderStyle), 'dashed', 'the stylesheet applies');
        await page.setInputFiles('#file', fileURLToPath(new URL('three-faces.jpg', PHOTOS)));
        await page.waitForFunction(() => document.querySelectorAll('.face-box').length === 3, undefined, { timeout: 60_000 });
        await page.waitForFunction(() => Array.from(document.querySelectorAll('img.overlay')).some((i) => (i as HTMLImageElement).src.startsWith('data:image/png')), undefined, { timeout: 120_000 });
        assert.ok(await page.evaluate(() => (document.getElementById('photo') as HTMLImageElement).naturalWidth === 1000), 'the photo shows');
        assert.deepEqual(await page.evaluate(() => (window as unknown as { cspViolations: string[] }).cspViolations), []);
        assert.deepEqual(errors, []);
        // The check can fail: an inline script is reported.
        await page.evaluate(() => {
          const s = document.createElement('script');
          s.textContent = 'window.inlineRan = true';
          document.body.appendChild(s);
        });
        await page.waitForFunction(() => (window as unknown as { cspViolations: string[] }).cspViolations.length > 0, undefined, { timeout: 5_000 });
      }));
  }

  it('a photo stored sideways: its faces are boxed where they are, and the status says it was turned', () =>
    withPage(DESKTOP, async (page) => {
      await page.goto(plain.url);
      const sideways = await sharp(fileURLToPath(new URL('three-faces.jpg', PHOTOS))).rotate(90).jpeg({ quality: 95 }).toBuffer();
      await page.setInputFiles('#file', { name: 'sideways.jpg', mimeType: 'image/jpeg', buffer: sideways });
      await page.waitForFunction(() => document.querySelectorAll('.face-box').length === 3, undefined, { timeout: 60_000 });
      await page.waitForFunction(() => /turned/.test(document.getElementById('status')!.textContent ?? ''), undefined, { timeout: 60_000 });
      assert.match((await page.textContent('#status')) ?? '', /^3 faces, found with the photo turned 270°/);
    }));

  it('a photo larger than the server analyses is sent shrunk (upright, 2048 px): a 57 MP photo the API refuses is answered', () =>
    withPage(DESKTOP, async (page) => {
      await page.goto(plain.url);
      const source = fileURLToPath(new URL('three-faces.jpg', PHOTOS));
      // 9000×6300 stored sideways with EXIF orientation 6, as a phone writes a photo held upright
      const big = await sharp(source).resize(9000, 6300).raw().toBuffer();
      const huge = await sharp(big, { raw: { width: 9000, height: 6300, channels: 3 } }).rotate(-90).jpeg({ quality: 80 }).withMetadata({ orientation: 6 }).toBuffer();
      const direct = await fetch(`${plain.url}v1/predict`, { method: 'POST', body: new Uint8Array(huge) });
      assert.ok(direct.status === 413 || direct.status === 422, `the API itself refuses it (${direct.status})`);
      const answered = page.waitForResponse((r) => r.url().includes('/v1/predict'), { timeout: 60_000 });
      await page.setInputFiles('#file', { name: 'huge.jpg', mimeType: 'image/jpeg', buffer: huge });
      const body = (await (await answered).json()) as { width: number; height: number; turned: number; faces: unknown[] };
      assert.deepEqual([body.width, body.height, body.turned, body.faces.length], [2048, 1434, 0, 3], 'sent upright at 2048 px, faces found without turning');
      await page.waitForFunction(() => document.querySelectorAll('.face-box').length === 3, undefined, { timeout: 60_000 });
      // A photo within 2048 px goes as it is (the answer is in its own pixels).
      const small = page.waitForResponse((r) => r.url().includes('/v1/predict'), { timeout: 60_000 });
      await page.setInputFiles('#file', { name: 'three.jpg', mimeType: 'image/jpeg', buffer: await readFile(source) });
      assert.deepEqual(((await (await small).json()) as { width: number }).width, 1000);
    }));

  it('an iPhone photo (HEIC) Chromium cannot show: the server\'s preview is shown under the boxes; without a preview the faces are listed and the status says why', () =>
    withPage(DESKTOP, async (page) => {
      await page.goto(plain.url);
      const heic = await readFile(new URL('three-faces-irot.heic', PHOTOS)); // stored turned, irot: upright 1000×700
      await page.setInputFiles('#file', { name: 'IMG_0001.HEIC', mimeType: 'image/heic', buffer: heic });
      await page.waitForFunction(() => document.querySelectorAll('.face-box').length === 3, undefined, { timeout: 60_000 });
      assert.deepEqual(await page.evaluate(() => {
        const img = document.getElementById('photo') as HTMLImageElement;
        return [img.hidden, img.naturalWidth, img.naturalHeight, img.src.startsWith('data:image/jpeg')];
      }), [false, 1000, 700, true]);
      assert.match((await page.textContent('#status')) ?? '', /^3 faces[;( ]/);
      assert.doesNotMatch((await page.textContent('#status')) ?? '', /cannot be shown/);
      // Without the preview (the request fails), the faces are still listed and the status says why there is no photo.
      await page.route('**/v1/preview', (route) => route.fulfill({ status: 500, body: '' }));
      await page.setInputFiles('#file', { name: 'IMG_0002.HEIC', mimeType: 'image/heic', buffer: await readFile(new URL('three-faces.heic', PHOTOS)) });
      await page.waitForFunction(() => /cannot be shown/.test(document.getElementById('status')!.textContent ?? ''), undefined, { timeout: 60_000 });
      assert.match((await page.textContent('#status')) ?? '', /^3 faces \(the photo cannot be shown here; the faces are listed below\)/);
      assert.equal(await page.locator('.face-card').count(), 3);
      assert.equal(await page.evaluate(() => (document.getElementById('photo') as HTMLImageElement).hidden), true);
      assert.equal(await page.locator('.face-box').count(), 0, 'no boxes floating over a photo that is not shown');
      // The next photo that the browser can show brings the photo back.
      await page.setInputFiles('#file', { name: 'three.jpg', mimeType: 'image/jpeg', buffer: await readFile(new URL('three-faces.jpg', PHOTOS)) });
      await page.waitForFunction(() => document.querySelectorAll('.face-box').length === 3, undefined, { timeout: 60_000 });
      assert.equal(await page.evaluate(() => (document.getElementById('photo') as HTMLImageElement).hidden), false);
      assert.doesNotMatch((await page.textContent('#status')) ?? '', /cannot be shown/);
    }));

  it('a file that is not an image, an empty or unreadable file, a server that does not answer or a proxy\'s error page: the status names the file and says why, and the next photo works', () =>
    withPage(DESKTOP, async (page) => {
      await page.goto(sure.url);
      const failed = async (name: string, buffer: Buffer | string): Promise<string> => {
        await page.evaluate(() => { document.getElementById('status')!.className = ''; });
        await page.setInputFiles('#file', typeof buffer === 'string' ? buffer : { name, mimeType: 'image/jpeg', buffer });
        if (typeof buffer === 'string') await rm(dirname(buffer), { recursive: true }); // once chosen, before it is read
        await page.waitForFunction(() => document.getElementById('status')!.className === 'error', undefined, { timeout: 30_000 });
        return (await page.textContent('#status')) ?? '';
      };
      const photo = await readFile(new URL('three-faces.jpg', PHOTOS));
      assert.match(await failed('notes.txt', Buffer.from('hello')), /^Error: notes\.txt: not a supported image/);
      assert.equal(await failed('empty.jpg', Buffer.alloc(0)), 'Error: empty.jpg: the file is empty (0 bytes)');
      await page.route('**/v1/**', (route) => route.abort('connectionrefused'));
      assert.equal(await failed('a.jpg', photo), 'Error: a.jpg: the server did not answer (it may have stopped, or the network is down); try again');
      await page.unroute('**/v1/**');
      await page.route('**/v1/**', (route) => route.fulfill({ status: 502, contentType: 'text/html', body: '<h1>502 Bad Gateway</h1>' }));
      assert.equal(await failed('b.jpg', photo), 'Error: b.jpg: the server failed (HTTP 502); try again later');
      await page.unroute('**/v1/**');
      // a file that cannot be read (moved or deleted once chosen; a folder dropped) is said so, not sent
      const gone = join(await mkdtemp(join(tmpdir(), 'agegender-web-')), 'gone.jpg');
      await writeFile(gone, photo);
      await page.evaluate(() => {
        const read = FileReader.prototype.readAsDataURL;
        FileReader.prototype.readAsDataURL = function (this: FileReader, blob: Blob) {
          setTimeout(() => read.call(this, blob), blob instanceof File && blob.name === 'gone.jpg' ? 700 : 0);
        };
      });
      assert.equal(await failed('gone.jpg', gone), 'Error: gone.jpg: the file cannot be read (a folder, or a file moved or deleted since it was chosen?)');
      await page.setInputFiles('#file', { name: 'c.jpg', mimeType: 'image/jpeg', buffer: await readFile(new URL('chip-35-male.jpg', PHOTOS)) });
      await page.waitForFunction(() => document.querySelectorAll('.face-box').length === 1, undefined, { timeout: 30_000 });
      assert.match((await page.textContent('#status')) ?? '', /^1 face/);
    }));

  it('a photo chosen while the previous one is still being read: the later one is shown and boxed, not the earlier', () =>
    withPage(DESKTOP, async (page) => {
      // The first file is read slowly (a large file on a slow disk), so its reading ends after the second's.
      await page.addInitScript(() => {
        const read = FileReader.prototype.readAsDataURL;
        FileReader.prototype.readAsDataURL = function (this: FileReader, blob: Blob) {
          if (blob instanceof File && blob.name.startsWith('slow')) setTimeout(() => read.call(this, blob), 400);
          else read.call(this, blob);
        };
      });
      await page.goto(plain.url);
      const flat = await sharp({ create: { width: 800, height: 600, channels: 3, background: '#7a9' } }).png().toBuffer();
      await page.setInputFiles('#file', { name: 'slow.png', mimeType: 'image/png', buffer: flat });
      await page.setInputFiles('#file', { name: 'chip.jpg', mimeType: 'image/jpeg', buffer: await readFile(new URL('chip-35-male.jpg', PHOTOS)) });
      await page.waitForFunction(() => /^1 face/.test(document.getElementById('status')!.textContent ?? ''), undefined, { timeout: 30_000 });
      await new Promise((resolve) => setTimeout(resolve, 500)); // past the slow read
      assert.equal(await page.evaluate(() => (document.getElementById('photo') as HTMLImageElement).naturalWidth), 200, 'the photo shown is the one boxed');
      assert.equal(await page.locator('.face-box').count(), 1);
      assert.match((await page.textContent('#status')) ?? '', /^1 face/);
    }));

  it('a server without an explainer: no "Explain" option and no explain request; a photo dropped on the photo shown is analysed', () =>
    withPage(DESKTOP, async (page) => {
      const asked: string[] = [];
      page.on('request', (r) => asked.push(new URL(r.url()).pathname));
      await page.goto(plain.url);
      assert.equal(await page.locator('#target').count(), 0);
      assert.doesNotMatch((await page.textContent('main > p.note')) ?? '', /explanation/);
      await dropPhoto(page, 'chip-35-male.jpg');
      await page.waitForFunction(() => document.querySelectorAll('.face-box').length === 1, undefined, { timeout: 30_000 });
      await dropPhoto(page, 'three-faces.jpg', 'photo');
      await page.waitForFunction(() => document.querySelectorAll('.face-box').length === 3, undefined, { timeout: 30_000 });
      assert.match((await page.textContent('#status')) ?? '', /^3 faces \(\d+ ms\)\.$/);
      assert.equal(await page.locator('.face-card .pending').count(), 0, 'no "explanation pending" under the faces');
      assert.ok(!asked.includes('/v1/explain'), asked.join(' '));
      // "detect faces" unticked: a group photo is no face crop, and the status says to tick it again
      await page.uncheck('#detect');
      await page.waitForFunction(() => /^No usable face/.test(document.getElementById('status')!.textContent ?? ''), undefined, { timeout: 30_000 });
      assert.match((await page.textContent('#status')) ?? '', /\. If the photo has faces anywhere in it \(not one face filling it\), tick “detect faces”\.$/);
    }));

  it('a photo chosen while the previous one is being explained is answered at once: the page drops the old requests, the server their work', async () => {
    let starts = 0;
    let stops = 0;
    // An explanation that takes 20 s unless the server tells it to stop.
    const slowExplain: ExplainFn = async (_model, chip, { signal }) => {
      starts++;
      await new Promise<void>((resolve) => {
        const timer = setTimeout(resolve, 20_000);
        signal?.addEventListener('abort', () => { stops++; clearTimeout(timer); resolve(); });
      });
      return { overlayPng: await sharp(chip.data, { raw: { width: chip.width, height: chip.height, channels: chip.channels } }).png().toBuffer() };
    };
    const slow = await serve(fakeModel(), detector, slowExplain);
    try {
      await withPage(DESKTOP, async (page) => {
        await page.goto(slow.url);
        await page.setInputFiles('#file', fileURLToPath(new URL('three-faces.jpg', PHOTOS)));
        for (let t = 0; t < 300 && starts === 0; t++) await new Promise((resolve) => setTimeout(resolve, 100));
        assert.equal(starts, 1, 'the first photo is being explained');
        const t0 = performance.now();
        await page.setInputFiles('#file', fileURLToPath(new URL('chip-35-male.jpg', PHOTOS)));
        await page.waitForFunction(() => document.querySelectorAll('.face-card').length === 1, undefined, { timeout: 30_000 });
        const ms = performance.now() - t0;
        assert.ok(ms < 8_000, `the second photo's faces came after ${ms.toFixed(0)} ms, not after the first photo's explanation`);
        assert.ok(stops >= 1, 'the server stopped explaining the first photo');
      });
    } finally {
      await slow.app.close();
    }
  });

  it('a server without a face detector: "detect faces" is unticked and disabled, and a face chip is read', async () => {
    const chips = await serve(fakeModel(), null, null);
    try {
      await withPage(PHONE, async (page) => {
        await page.goto(chips.url);
        assert.deepEqual(await page.evaluate(() => { const d = document.getElementById('detect') as HTMLInputElement; return [d.checked, d.disabled]; }), [false, true]);
        assert.match((await page.textContent('.options')) ?? '', /this server has no face detector/);
        await page.setInputFiles('#file', fileURLToPath(new URL('chip-35-male.jpg', PHOTOS)));
        await page.waitForFunction(() => document.querySelectorAll('.face-card').length === 1, undefined, { timeout: 30_000 });
        assert.match((await page.textContent('#status')) ?? '', /^1 face \(/);
      });
    } finally {
      await chips.app.close();
    }
  });
});
