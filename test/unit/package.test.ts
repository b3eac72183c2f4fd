// What `npm pack` ships: everything the library and the CLI need at run time (dist, bin, the model,
// the face detector and their licences; source maps with their sources inlined), nothing of the
// working tree (tests, workspaces, sources), every "exports" target, and type declarations that
// import only what a consumer installs.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { builtinModules } from 'node:module';
import { dirname, join, normalize } from 'node:path';
import { promisify } from 'node:util';

const run = promisify(execFile);

interface PackageJson {
  exports: Record<string, Record<string, string>>;
  dependencies: Record<string, string>;
  optionalDependencies?: Record<string, string>;
  license: string;
}

let packed: Promise<Set<string>> | undefined;

/** The paths `npm pack` would put in the tarball (asked once: it takes seconds). */
function packedFiles(): Promise<Set<string>> {
  packed ??= run('npm', ['pack', '--dry-run', '--json', '--ignore-scripts'], { maxBuffer: 1 << 24 }).then(({ stdout }) => {
    const [tarball] = JSON.parse(stdout) as Array<{ files: Array<{ path: string }> }>;
    return new Set(tarball!.files.map((f) => f.path));
  });
  return packed;
}

/** The package a bare specifier names: `a/b.js` → `a`, `@s/a/b` → `@s/a`. */
function packageOf(specifier: string): string {
  const parts = specifier.split('/');
  return specifier.startsWith('@') ? parts.slice(0, 2).join('/') : parts[0]!;
}

test('npm pack ships the run-time files and licences, and nothing of the working tree', async () => {
  assert.ok(existsSync('dist/index.js'), 'dist/ is built (npm ci runs the build; else npm run build)');
  const files = await packedFiles();
  const pkg = JSON.parse(readFileSync('package.json', 'utf8')) as PackageJson;
  assert.equal(pkg.license, 'MIT');
  for (const f of [
    'LICENSE',
    'README.md',
    'bin/agegender.js',
    'models/default/model.json',
    'models/default/weights.bin',
    'models/default/metadata.json',
    'models/default/LICENSE-face-api',
    'models/detector/yunet_s_dynamic.onnx',
    'models/detector/LICENSE-yunet',
    'models/detector/chip-template.json',
    'models/detector/chip-template-68.json',
  ]) {
    assert.ok(files.has(f), `${f} is packed`);
  }
  assert.match(readFileSync('LICENSE', 'utf8'), /^MIT License/);
  assert.match(readFileSync('models/default/LICENSE-face-api', 'utf8'), /^MIT License\s+Copyright \(c\) Vladimir Mandic/);
  const stray = [...files].filter((f) => /^(src|test|tmp|workspace|reports|bench|experiments|scripts|docs|node_modules)\//.test(f) || f.endsWith('.test.js'));
  assert.deepEqual(stray, []);

  // source maps carry their sources (src/ is not packed): no "missing source" for debuggers and bundlers
  const maps = [...files].filter((f) => f.endsWith('.js.map'));
  assert.ok(maps.length > 100, `${maps.length} source maps`);
  const unresolved = maps.filter((f) => {
    const map = JSON.parse(readFileSync(f, 'utf8')) as { sources: string[]; sourcesContent?: Array<string | null> };
    return map.sources.some((source, i) => typeof map.sourcesContent?.[i] !== 'string' && !files.has(normalize(join(dirname(f), source))));
  });
  assert.deepEqual(unresolved, []);

  for (const [subpath, conditions] of Object.entries(pkg.exports)) {
    for (const condition of ['types', 'import']) {
      const target = normalize(conditions[condition]!);
      assert.ok(files.has(target), `exports["${subpath}"].${condition} → ${target} is packed`);
    }
  }
});

test('packed type declarations import only packed files, dependencies and Node built-ins', async () => {
  const files = await packedFiles();
  const pkg = JSON.parse(readFileSync('package.json', 'utf8')) as PackageJson;
  const installed = new Set([...Object.keys(pkg.dependencies), ...Object.keys(pkg.optionalDependencies ?? {}), 'agegender']);
  const problems: string[] = [];
  for (const file of [...files].filter((f) => f.endsWith('.d.ts'))) {
    const text = readFileSync(file, 'utf8').replace(/\/\*[\s\S]*?\*\//g, '');
    for (const [, specifier] of text.matchAll(/(?:from\s+|import\()\s*['"]([^'"]+)['"]/g)) {
      const s = specifier!;
      if (s.startsWith('.')) {
        const target = normalize(join(dirname(file), s.replace(/\.js$/, '.d.ts')));
        if (!files.has(target)) problems.push(`${file}: ${s} (${target} not packed)`);
      } else if (!s.startsWith('node:') && !builtinModules.includes(s) && !installed.has(packageOf(s))) {
        problems.push(`${file}: ${s} (not a dependency)`);
      }
    }
  }
  assert.deepEqual(problems, []);
});

test('CommonJS: require() loads every "exports" entry (Node ≥ 20.19 loads the ESM through require(esm))', async (t) => {
  const [major, minor] = process.versions.node.split('.').map(Number) as [number, number];
  if (major < 20 || (major === 20 && minor < 19) || (major === 22 && minor < 12)) return t.skip(`require(esm) needs Node 20.19 or 22.12; this is ${process.versions.node}`);
  const pkg = JSON.parse(readFileSync('package.json', 'utf8')) as PackageJson;
  const specifiers = Object.keys(pkg.exports).map((k) => (k === '.' ? 'agegender' : `agegender${k.slice(1)}`));
  // a CommonJS script in the package's own folder (self-reference by name), without the source condition
  const script = `const out = {}; for (const s of ${JSON.stringify(specifiers)}) out[s] = Object.keys(require(s)).length; out.pipeline = typeof require('agegender').pipeline; console.log(JSON.stringify(out));`;
  const env = { ...process.env };
  delete env.NODE_OPTIONS;
  const { stdout } = await run(process.execPath, ['--input-type=commonjs', '-e', script], { env });
  const loaded = JSON.parse(stdout) as Record<string, number | string>;
  assert.equal(loaded.pipeline, 'function');
  for (const s of specifiers) assert.ok(typeof loaded[s] === 'number' && loaded[s] > 0, `${s}: ${loaded[s]}`);
});
