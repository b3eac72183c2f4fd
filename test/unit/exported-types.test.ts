// Every type a public declaration names (a parameter, a result, a field) can itself be imported from
// some entry point of the package (package.json `exports`), so that a TypeScript user can name it.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import ts from 'typescript';

const root = fileURLToPath(new URL('../../', import.meta.url));
const srcDir = `${root}src/`;

/** The source of each entry point (its `agegender-source` condition). */
function entryFiles(): string[] {
  const pkg = JSON.parse(readFileSync(`${root}package.json`, 'utf8')) as { exports: Record<string, Record<string, string>> };
  return Object.values(pkg.exports).map((e) => fileURLToPath(new URL(e['agegender-source']!, `file://${root}`)));
}

/** A class member that declaration files do not type (`private`, `#name`). */
function isPrivateMember(node: ts.Node): boolean {
  if (!ts.isClassElement(node)) return false;
  if (node.name && ts.isPrivateIdentifier(node.name)) return true;
  return ts.canHaveModifiers(node) && (ts.getModifiers(node) ?? []).some((m) => m.kind === ts.SyntaxKind.PrivateKeyword);
}

function target(checker: ts.TypeChecker, s: ts.Symbol): ts.Symbol {
  return s.flags & ts.SymbolFlags.Alias ? checker.getAliasedSymbol(s) : s;
}

/**
 * `Name (src/file.ts) <- the public declaration naming it` for each type that `files` do not export,
 * walking from their exports named in `only` (default: all of them).
 */
function unexportedTypes(files: string[], only?: readonly string[]): string[] {
  const program = ts.createProgram(files, { strict: true, module: ts.ModuleKind.NodeNext, moduleResolution: ts.ModuleResolutionKind.NodeNext, target: ts.ScriptTarget.ES2022, noEmit: true });
  const checker = program.getTypeChecker();
  const exportsOf = (f: string) => checker.getExportsOfModule(checker.getSymbolAtLocation(program.getSourceFile(f)!)!).map((s) => target(checker, s));
  const exported = new Set(files.flatMap(exportsOf));
  const start = only === undefined ? [...exported] : files.flatMap(exportsOf).filter((s) => only.includes(s.name));
  assert.equal(start.length >= (only?.length ?? 0), true, `${only?.join(', ')} are exported`);
  const missing = new Set<string>();
  const seen = new Set<ts.Symbol>(start);
  const visit = (node: ts.Node, owner: string): void => {
    if (ts.isTypeReferenceNode(node) || ts.isExpressionWithTypeArguments(node)) {
      const at = checker.getSymbolAtLocation(ts.isTypeReferenceNode(node) ? node.typeName : node.expression);
      const s = at && target(checker, at);
      const decls = s?.declarations ?? [];
      if (s && !(s.flags & ts.SymbolFlags.TypeParameter) && decls.some((d) => d.getSourceFile().fileName.startsWith(srcDir))) {
        if (!exported.has(s)) missing.add(`${s.name} (${decls[0]!.getSourceFile().fileName.slice(root.length)}) <- ${owner}`);
        if (!seen.has(s)) {
          seen.add(s);
          for (const d of decls) visit(d, s.name);
        }
      }
    }
    if (isPrivateMember(node)) return;
    if (ts.isFunctionLike(node)) {
      // its signature, not its body
      for (const child of [...(node.typeParameters ?? []), ...node.parameters, ...(node.type ? [node.type] : [])]) visit(child, owner);
      return;
    }
    ts.forEachChild(node, (c) => visit(c, owner));
  };
  for (const s of start) for (const d of s.declarations ?? []) visit(d, s.name);
  return [...missing].sort();
}

test('every type a public declaration names is exported by an entry point', () => {
  assert.deepEqual(unexportedTypes(entryFiles()), []);
});

test("the README's Library functions: every type they name is exported by `agegender` itself", () => {
  const readme = ['pipeline', 'loadModel', 'loadFaceDetector', 'loadImageInput', 'analyzeImage', 'predictFiles'];
  assert.deepEqual(unexportedTypes([`${srcDir}index.ts`], readme), []);
});
