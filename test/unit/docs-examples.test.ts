// Every ```ts block in the README and docs/ is type-checked as a user's module would be: imports of
// 'agegender' and its subpaths resolve through package.json's "exports" (the package's own name), so
// an example that calls something renamed, passes an option that no longer exists or reads a field
// that is not there fails here, not in a user's editor.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import ts from 'typescript';

const root = fileURLToPath(new URL('../../', import.meta.url));

/** The ```ts blocks of a Markdown file, with the line each starts at. */
export function tsBlocks(markdown: string): { line: number; code: string }[] {
  const blocks: { line: number; code: string }[] = [];
  const lines = markdown.split('\n');
  for (let i = 0; i < lines.length; i++) {
    if (!/^```(ts|typescript)\s*$/.test(lines[i]!)) continue;
    const start = i + 1;
    let end = start;
    while (end < lines.length && !lines[end]!.startsWith('```')) end++;
    blocks.push({ line: start + 1, code: lines.slice(start, end).join('\n') });
    i = end;
  }
  return blocks;
}

test('tsBlocks finds ```ts and ```typescript blocks only, with their first line', () => {
  const md = 'a\n```ts\nconst x = 1;\n```\n```js\nno\n```\n```typescript\nlet y;\nlet z;\n```\n';
  assert.deepEqual(tsBlocks(md), [{ line: 3, code: 'const x = 1;' }, { line: 9, code: 'let y;\nlet z;' }]);
});

test('the ```ts examples in README.md and docs/*.md type-check against the package as users import it', () => {
  const docs = ['README.md', ...readdirSync(join(root, 'docs')).filter((f) => f.endsWith('.md')).map((f) => `docs/${f}`)];
  const virtual = new Map<string, { doc: string; line: number }>();
  const texts = new Map<string, string>();
  for (const doc of docs) {
    for (const b of tsBlocks(readFileSync(join(root, doc), 'utf8'))) {
      // a module at the package root, so that 'agegender' is the package's own name
      const file = join(root, `__example_${doc.replace(/\W/g, '_')}_${b.line}.ts`);
      virtual.set(file, { doc, line: b.line });
      texts.set(file, `${b.code}\nexport {};\n`);
    }
  }
  assert.ok(virtual.size >= 2, `found ${virtual.size} examples`);
  const options: ts.CompilerOptions = {
    target: ts.ScriptTarget.ES2022, module: ts.ModuleKind.NodeNext, moduleResolution: ts.ModuleResolutionKind.NodeNext,
    customConditions: ['agegender-source'], strict: true, noEmit: true, skipLibCheck: true, types: ['node'], lib: ['lib.es2022.d.ts', 'lib.dom.d.ts'],
    allowImportingTsExtensions: true, resolveJsonModule: true, esModuleInterop: true,
  };
  const host = ts.createCompilerHost(options);
  const { getSourceFile, fileExists, readFile } = host;
  host.fileExists = (f) => texts.has(f) || fileExists.call(host, f);
  host.readFile = (f) => texts.get(f) ?? readFile.call(host, f);
  host.getSourceFile = (f, lang, ...rest) => (texts.has(f) ? ts.createSourceFile(f, texts.get(f)!, lang, true) : getSourceFile.call(host, f, lang, ...rest));
  const program = ts.createProgram([...virtual.keys()], options, host);
  const problems = ts.getPreEmitDiagnostics(program)
    .filter((d) => d.file && virtual.has(d.file.fileName))
    .map((d) => {
      const where = virtual.get(d.file!.fileName)!;
      const { line } = d.file!.getLineAndCharacterOfPosition(d.start ?? 0);
      return `${where.doc}:${where.line + line}: ${ts.flattenDiagnosticMessageText(d.messageText, '\n')}`;
    });
  assert.deepEqual(problems, []);
});
