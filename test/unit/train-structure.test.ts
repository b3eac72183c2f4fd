// The shape of the training code: no state at module level in src/train/ (a run's state lives in
// values made for that run), no function longer than 120 lines there, and src/model/ does not
// import from src/train/ (imports flow model → train).
import { strict as assert } from 'node:assert';
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import ts from 'typescript';

const sources = (dir: string): ts.SourceFile[] =>
  readdirSync(dir)
    .filter((f) => f.endsWith('.ts'))
    .map((f) => ts.createSourceFile(join(dir, f), readFileSync(join(dir, f), 'utf8'), ts.ScriptTarget.Latest, true));

/** True for an initialiser that cannot hold changing state: a literal, a function, or `Object.freeze(…)`. */
function immutable(init: ts.Expression | undefined): boolean {
  if (!init) return false;
  const e = ts.isAsExpression(init) || ts.isSatisfiesExpression(init) ? init.expression : init;
  if (ts.isNumericLiteral(e) || ts.isStringLiteral(e) || ts.isNoSubstitutionTemplateLiteral(e) || ts.isArrowFunction(e) || ts.isFunctionExpression(e)) return true;
  return ts.isCallExpression(e) && e.expression.getText() === 'Object.freeze';
}

describe('src/train structure', () => {
  it('no module-level mutable state: top-level variables are constants that are literals, functions or frozen', () => {
    const offenders: string[] = [];
    for (const sf of sources('src/train')) {
      for (const st of sf.statements) {
        if (!ts.isVariableStatement(st)) continue;
        const isConst = (st.declarationList.flags & ts.NodeFlags.Const) !== 0;
        for (const d of st.declarationList.declarations) {
          if (!isConst || !immutable(d.initializer)) offenders.push(`${sf.fileName}: ${d.getText().slice(0, 60)}`);
        }
      }
    }
    assert.deepEqual(offenders, []);
  });

  it('no function over 120 lines', () => {
    const long: string[] = [];
    for (const sf of sources('src/train')) {
      const visit = (n: ts.Node): void => {
        if (ts.isFunctionLike(n) && 'body' in n && n.body) {
          const lines = sf.getLineAndCharacterOfPosition(n.getEnd()).line - sf.getLineAndCharacterOfPosition(n.getStart()).line + 1;
          if (lines > 120) long.push(`${sf.fileName}:${sf.getLineAndCharacterOfPosition(n.getStart()).line + 1} (${lines} lines)`);
        }
        ts.forEachChild(n, visit);
      };
      visit(sf);
    }
    assert.deepEqual(long, []);
  });

  it('src/model imports nothing from src/train', () => {
    const upward = sources('src/model').flatMap((sf) =>
      sf.statements
        .filter((st): st is ts.ImportDeclaration | ts.ExportDeclaration => ts.isImportDeclaration(st) || ts.isExportDeclaration(st))
        .map((st) => (st.moduleSpecifier as ts.StringLiteral | undefined)?.text ?? '')
        .filter((spec) => spec.includes('/train/'))
        .map((spec) => `${sf.fileName} → ${spec}`),
    );
    assert.deepEqual(upward, []);
  });
});
