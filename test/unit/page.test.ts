// The web page without a browser: the shipped script's pure helpers (run in a vm context, as the
// browser would run them), the HTML's CSP-friendliness, and the "about" panel's figures, read from
// the shipped model's metadata.
import { strict as assert } from 'node:assert';
import { readFile } from 'node:fs/promises';
import { runInNewContext } from 'node:vm';
import { describe, it } from 'node:test';
import type { ModelMetadata } from '../../src/model/api.js';
import { aboutHtml, abstentionHtml, modelFigures, pageHtml } from '../../src/server/page.js';
import { PAGE_FORMAT_SCRIPT, PAGE_SCRIPT } from '../../src/server/page-script.js';

interface Face {
  age: number;
  ageInterval: [number, number];
  gender: string;
  genderProbability: number;
  femaleProbability?: number;
}
interface Rect { x: number; y: number; w: number; h: number }
interface Format {
  pct(p: number): string;
  genderText(f: Face): string;
  faceLabel(f: Face, i: number): string;
  placeLabels(boxes: Rect[], sizes: Array<{ full: { w: number; h: number }; short: { w: number; h: number } }>, W: number, H: number): Array<{ kind: string; x: number; y: number }>;
}

const format = runInNewContext(`${PAGE_FORMAT_SCRIPT}; agegenderFormat`) as Format;
const shipped = JSON.parse(await readFile(new URL('../../models/default/metadata.json', import.meta.url), 'utf8')) as ModelMetadata;
const bare: ModelMetadata = { formatVersion: 1, name: 'bare', encoder: 'none', inputSize: 200, createdAt: '', command: '', datasetManifestHash: null, metrics: {} };

describe('page: label text', () => {
  it('probabilities are whole percentages, never 100% or 0%', () => {
    assert.equal(format.pct(0.5), '50%');
    assert.equal(format.pct(0.994), '99%');
    assert.equal(format.pct(0.995), '> 99%');
    assert.equal(format.pct(1), '> 99%');
    assert.equal(format.pct(0.006), '1%');
    assert.equal(format.pct(0.004), '< 1%');
    assert.equal(format.pct(0), '< 1%');
    assert.equal(format.pct(Number.NaN), '?');
  });

  it('a face reads "#n age A (lo–hi) · gender p"; an abstention reads "gender uncertain" with the female probability', () => {
    const f: Face = { age: 34.6, ageInterval: [29.2, 41.7], gender: 'female', genderProbability: 0.9991, femaleProbability: 0.9991 };
    assert.equal(format.faceLabel(f, 0), '#1 age 35 (29–42) · female > 99%');
    const u: Face = { ...f, gender: 'uncertain', genderProbability: 0.55, femaleProbability: 0.45 };
    assert.equal(format.faceLabel(u, 2), '#3 age 35 (29–42) · gender uncertain (female 45%)');
    assert.equal(format.genderText({ ...u, femaleProbability: undefined }), 'gender uncertain');
  });
});

describe('page: label placement', () => {
  const overlap = (a: Rect, b: Rect): boolean => a.x < b.x + b.w && b.x < a.x + a.w && a.y < b.y + b.h && b.y < a.y + a.h;
  const place = (boxes: Rect[], fullW: number, W: number, H: number): Rect[] => {
    const sizes = boxes.map(() => ({ full: { w: fullW, h: 16 }, short: { w: 12, h: 16 } }));
    return format.placeLabels(boxes, sizes, W, H).flatMap((p) => (p.kind === 'none' ? [] : [{ x: p.x, y: p.y, w: p.kind === 'full' ? fullW : 12, h: 16 }]));
  };

  it('a lone face gets its full label below the box, inside the photo', () => {
    const [spot] = format.placeLabels([{ x: 300, y: 20, w: 80, h: 80 }], [{ full: { w: 200, h: 16 }, short: { w: 12, h: 16 } }], 400, 300);
    assert.deepEqual({ ...spot }, { kind: 'full', x: 200, y: 100 }, 'moved left to stay inside the 400 px photo');
  });

  it('a box filling the photo (a chip) gets its label inside the box', () => {
    const [spot] = format.placeLabels([{ x: 0, y: 0, w: 200, h: 200 }], [{ full: { w: 190, h: 16 }, short: { w: 12, h: 16 } }], 200, 200);
    assert.deepEqual({ ...spot }, { kind: 'full', x: 2, y: 2 }); // objects from the vm context: compared by value
  });

  it('crowded small faces: no two labels overlap and every label lies inside the photo', () => {
    const boxes: Rect[] = Array.from({ length: 7 }, (_v, i) => ({ x: 10 + i * 45, y: 60 + (i % 2) * 20, w: 30, h: 30 }));
    const rects = place(boxes, 210, 340, 230);
    assert.ok(rects.length >= 5, `most faces keep a label (${rects.length})`);
    for (const [i, a] of rects.entries()) {
      assert.ok(a.x >= 0 && a.y >= 0 && a.x + a.w <= 340 && a.y + a.h <= 230, `label ${i} inside`);
      for (const b of rects.slice(i + 1)) assert.ok(!overlap(a, b), 'labels do not overlap');
    }
  });
});

describe('page: HTML and about panel', () => {
  it('has no inline script, inline style or style attribute, and a real button for upload', () => {
    const html = pageHtml(shipped);
    assert.deepEqual([...html.matchAll(/<script([^>]*)>([\s\S]*?)<\/script>/g)].map((m) => [m[1], m[2]]), [[' src="/app.js" defer', '']]);
    assert.doesNotMatch(html, /<style|\sstyle=|\son[a-z]+=/i);
    assert.match(html, /<button type="button" id="drop"[^>]*>[\s\S]*Choose a photo/);
    assert.match(html, /<input id="file" type="file"[^>]*aria-label=/);
    assert.doesNotMatch(PAGE_SCRIPT, /innerHTML|setAttribute\('style'|eval\(|new Function/, 'nothing a strict CSP would block');
  });

  it('offers "Explain" only where the server explains, and "detect faces" only where it has a detector', () => {
    const full = pageHtml(shipped);
    assert.match(full, /<select id="target">/);
    assert.match(full, /<input id="detect" type="checkbox" checked>/);
    assert.doesNotMatch(full, /data-explain/);
    const bareServer = pageHtml(shipped, 0.5, null, { detect: false, explain: false });
    assert.doesNotMatch(bareServer, /id="target"|the explanation shows/);
    assert.match(bareServer, /<body data-explain="false">/);
    assert.match(bareServer, /<input id="detect" type="checkbox" disabled> detect faces <span class="hint">\(this server has no face detector/);
  });

  it('reads the shipped model\'s held-out figures from its metadata, not from constants', () => {
    const figures = modelFigures(shipped);
    const test = (shipped.metrics as { test: { count: number; mae: number; genderAccuracy: number } }).test;
    assert.deepEqual(figures && { split: figures.split, count: figures.count, mae: figures.mae, acc: figures.genderAccuracy }, { split: 'test', count: test.count, mae: test.mae, acc: test.genderAccuracy });
    const about = aboutHtml(shipped);
    assert.ok(about.includes(`${test.mae.toFixed(1)} years`), about);
    assert.ok(about.includes(`${(test.genderAccuracy * 100).toFixed(1)}%`));
    assert.match(about, /No decisions about people/);
    assert.match(about, /non-commercial research only/);
  });

  it('states the gender threshold applied and, for the recorded one, the share answered on val', () => {
    const inference = shipped['inference'] as { genderThreshold: number; genderThresholdVal: { coverage: number; accuracy: number; children: { coverage: number } } };
    const t = inference.genderThreshold;
    const text = aboutHtml(shipped, t);
    assert.ok(text.includes(`reaches <b>${Math.round(t * 1000) / 10}%</b>`), text);
    assert.ok(text.includes(`answers ${(inference.genderThresholdVal.coverage * 100).toFixed(1)}% of faces, ${(inference.genderThresholdVal.accuracy * 100).toFixed(1)}% of them`));
    assert.ok(text.includes(`only ${(inference.genderThresholdVal.children.coverage * 100).toFixed(1)}%`));
    assert.doesNotMatch(abstentionHtml(shipped, 0.9), /val split/, 'another threshold than the recorded one: no val figures');
    assert.equal(abstentionHtml(shipped, 0.5), '', 'a model that always answers says nothing about abstention');
  });

  it('a model without recorded figures says its accuracy is unknown', () => {
    assert.equal(modelFigures(bare), null);
    assert.match(aboutHtml(bare), /accuracy is unknown/);
    assert.match(aboutHtml({ ...bare, metrics: { val: { count: 10, mae: 5, genderAccuracy: 0.9 } } }), /10 held-out UTKFace face chips \(val split\)/);
  });
});
