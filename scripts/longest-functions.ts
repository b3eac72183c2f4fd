/**
 * The longest functions in a source tree (TypeScript compiler API), to keep every function in src/
 * under the limit the style guide sets (120 lines). Counts lines from the function's first token
 * to its last, nested functions included in their parent. Exits 1 when any is over `--max`.
 *
 * Usage: node --import tsx scripts/longest-functions.ts [folder=src] [--max 120] [--top 10] [--exclude src/server]
 */
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { join, relative } from 'node:path';
import ts from 'typescript';

interface Found {
  file: string;
  line: number;
  name: string;
  lines: number;
}

function option(name: string, fallback: string): string {
  const i = process.argv.indexOf(name);
  return i >= 0 && process.argv[i + 1] !== undefined ? process.argv[i + 1]! : fallback;
}

function sourceFiles(dir: string, exclude: readonly string[]): string[] {
  if (exclude.some((e) => relative(e, dir) === '' || !relative(e, dir).startsWith('..'))) return [];
  return readdirSync(dir).flatMap((entry) => {
    const path = join(dir, entry);
    if (statSync(path).isDirectory()) return sourceFiles(path, exclude);
    return /\.tsx?$/.test(entry) && !entry.endsWith('.d.ts') ? [path] : [];
  });
}

function nameOf(node: ts.Node, source: ts.SourceFile): string {
  const named = node as ts.Node & { name?: ts.Node };
  if (named.name) return named.name.getText(source);
  if (ts.isConstructorDeclaration(node)) return 'constructor';
  const parent = node.parent;
  if (ts.isVariableDeclaration(parent) || ts.isPropertyAssignment(parent) || ts.isPropertyDeclaration(parent)) return parent.name.getText(source);
  if (ts.isCallExpression(parent)) return `(callback of ${parent.expression.getText(source).slice(0, 40)})`;
  return '(anonymous)';
}

function functionsIn(file: string): Found[] {
  const source = ts.createSourceFile(file, readFileSync(file, 'utf8'), ts.ScriptTarget.Latest, true);
  const found: Found[] = [];
  const visit = (node: ts.Node): void => {
    if (ts.isFunctionLike(node) && 'body' in node && node.body) {
      const start = source.getLineAndCharacterOfPosition(node.getStart(source)).line;
      const end = source.getLineAndCharacterOfPosition(node.getEnd()).line;
      found.push({ file, line: start + 1, name: nameOf(node, source), lines: end - start + 1 });
    }
    ts.forEachChild(node, visit);
  };
  visit(source);
  return found;
}

const args = process.argv.slice(2);
const flags = new Set(['--max', '--top', '--exclude']);
const root = args.find((a, i) => !a.startsWith('--') && !flags.has(args[i - 1] ?? '')) ?? 'src';
const max = Number(option('--max', '120'));
const top = Number(option('--top', '10'));
const exclude = args.flatMap((a, i) => (args[i - 1] === '--exclude' ? [a] : []));
const all = sourceFiles(root, exclude).flatMap(functionsIn).sort((a, b) => b.lines - a.lines);
for (const f of all.slice(0, top)) console.log(`${String(f.lines).padStart(4)}  ${f.file}:${f.line}  ${f.name}`);
const over = all.filter((f) => f.lines > max);
console.log(over.length === 0 ? `no function over ${max} lines in ${root} (${all.length} functions)` : `${over.length} functions over ${max} lines`);
process.exitCode = over.length === 0 ? 0 : 1;
