// Every relative link in README.md and docs/*.md points at a file that exists and, with a #fragment, at a
// heading of that file, slugged as GitHub slugs it (lower case, punctuation dropped, spaces to hyphens,
// repeats numbered -1, -2, …), so that a renamed heading or moved file breaks here, not for a reader.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, readdirSync, readFileSync, statSync } from 'node:fs';
import { dirname, join, relative } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = fileURLToPath(new URL('../../', import.meta.url));

/** Markdown text without fenced code blocks (their lines blanked, so line numbers stay). */
function withoutFences(markdown: string): string[] {
  let inFence = false;
  return markdown.split('\n').map((line) => {
    if (/^\s*(```|~~~)/.test(line)) { inFence = !inFence; return ''; }
    return inFence ? '' : line;
  });
}

/** GitHub's anchor for a heading's text (github-slugger on the rendered text). */
export function githubSlug(heading: string): string {
  const text = heading
    .replace(/!?\[([^\]]*)\]\([^)]*\)/g, '$1') // links and images: their text
    .replace(/<[^>]+>/g, '') // inline HTML
    .replace(/[`*]|(?<!\w)_|_(?!\w)/g, ''); // code and emphasis markers
  return text.trim().toLowerCase().replace(/[^\p{L}\p{M}\p{N}\p{Pc} -]/gu, '').replace(/ /g, '-');
}

/** The anchors a Markdown file's headings give, numbered as GitHub numbers repeats. */
export function anchors(markdown: string): Set<string> {
  const out = new Set<string>();
  const seen = new Map<string, number>();
  for (const line of withoutFences(markdown)) {
    const m = /^#{1,6}\s+(.*?)\s*#*\s*$/.exec(line);
    if (!m) continue;
    const base = githubSlug(m[1]!);
    const n = seen.get(base) ?? 0;
    seen.set(base, n + 1);
    out.add(n === 0 ? base : `${base}-${n}`);
  }
  return out;
}

/** Relative links `[text](target)` outside code, with their line numbers. */
export function relativeLinks(markdown: string): { line: number; target: string }[] {
  const out: { line: number; target: string }[] = [];
  withoutFences(markdown).forEach((line, i) => {
    const prose = line.replace(/`[^`]*`/g, '');
    for (const [, target] of prose.matchAll(/\]\(\s*<?([^)\s>]+)>?(?:\s+"[^"]*")?\s*\)/g)) {
      if (/^[a-z][a-z0-9+.-]*:/i.test(target!)) continue; // http:, https:, mailto:
      out.push({ line: i + 1, target: target! });
    }
  });
  return out;
}

test('githubSlug and anchors follow GitHub: punctuation dropped, code unwrapped, repeats numbered', () => {
  assert.equal(githubSlug('Gender abstention: `uncertain` below a threshold chosen on val'), 'gender-abstention-uncertain-below-a-threshold-chosen-on-val');
  assert.equal(githubSlug("The notebook's 87.6% was measured on images it trained on"), 'the-notebooks-876-was-measured-on-images-it-trained-on');
  assert.equal(githubSlug('Metrics (src/eval/evaluate.ts) — full'), 'metrics-srcevalevaluatets--full');
  assert.deepEqual([...anchors('# A\n```\n# not a heading\n```\n## A\n### B c\n')], ['a', 'a-1', 'b-c']);
  assert.deepEqual(relativeLinks('see [x](docs/a.md#b) and [y](https://e.org) and `[z](no.md)`\n```\n[w](no.md)\n```\n'), [{ line: 1, target: 'docs/a.md#b' }]);
});

test('relative links in README.md and docs/*.md resolve to files and headings', () => {
  const docs = ['README.md', ...readdirSync(join(root, 'docs')).filter((f) => f.endsWith('.md')).map((f) => `docs/${f}`)];
  const broken: string[] = [];
  let checked = 0;
  for (const doc of docs) {
    const text = readFileSync(join(root, doc), 'utf8');
    for (const { line, target } of relativeLinks(text)) {
      checked++;
      const [pathPart, fragment] = target.split('#', 2) as [string, string | undefined];
      const file = pathPart === '' ? join(root, doc) : join(root, dirname(doc), decodeURIComponent(pathPart));
      if (!existsSync(file)) { broken.push(`${doc}:${line}: ${target}: no file ${relative(root, file)}`); continue; }
      if (fragment === undefined || statSync(file).isDirectory() || !file.endsWith('.md')) continue;
      if (!anchors(readFileSync(file, 'utf8')).has(decodeURIComponent(fragment))) broken.push(`${doc}:${line}: ${target}: no heading #${fragment} in ${relative(root, file)}`);
    }
  }
  assert.ok(checked > 20, `only ${checked} relative links found`);
  assert.deepEqual(broken, []);
});

test("the README's folder map names every folder of src/ and test/, and every folder it names exists", () => {
  const readme = readFileSync(join(root, 'README.md'), 'utf8');
  const block = /## Architecture\n[\s\S]*?\n```\n([\s\S]*?)```/.exec(readme)?.[1];
  assert.ok(block, 'README has a folder map under "## Architecture"');
  const named = new Set([...block.matchAll(/(?:^|[\s;])((?:src|test|models)\/[\w-]+|bench|scripts|experiments)(?=\s)/gm)].map((m) => m[1]!));
  const dirs = (parent: string): string[] => readdirSync(join(root, parent), { withFileTypes: true }).filter((d) => d.isDirectory()).map((d) => `${parent}/${d.name}`);
  const missing = [...dirs('src'), ...dirs('test'), ...dirs('models'), 'bench', 'scripts', 'experiments'].filter((d) => !named.has(d));
  assert.deepEqual(missing, [], 'folders the README folder map does not describe');
  const gone = [...named].filter((d) => !existsSync(join(root, d)));
  assert.deepEqual(gone, [], 'folders the README folder map names that do not exist');
});
