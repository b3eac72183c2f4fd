// `agegender <command> --help` against itself and against the README's command-line synopsis.
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { test } from 'node:test';
import type { Command } from 'commander';
import { buildProgram } from '../../src/cli/main.js';

/** Every command and subcommand, by its full name (`queue worker`). */
async function allCommands(): Promise<Map<string, Command>> {
  const program = await buildProgram();
  const out = new Map<string, Command>();
  for (const c of program.commands) {
    out.set(c.name(), c);
    for (const s of c.commands) out.set(`${c.name()} ${s.name()}`, s);
  }
  return out;
}

test('no option states its default twice in --help', async () => {
  const commands = await allCommands();
  assert.ok(commands.size >= 14, `expected every command, got ${[...commands.keys()].join(', ')}`);
  for (const [name, command] of commands) {
    const help = command.createHelp();
    for (const option of command.options) {
      const text = help.optionDescription(option);
      const defaults = text.match(/\bdefault\b/g)?.length ?? 0;
      assert.ok(defaults <= 1, `agegender ${name} ${option.long}: "${text}" gives its default ${defaults} times`);
    }
  }
});

test('serve --cors shows "(default: none)" and still collects every origin given', async () => {
  const serve = (await allCommands()).get('serve')!;
  const cors = serve.options.find((o) => o.long === '--cors')!;
  assert.match(serve.createHelp().optionDescription(cors), /\(repeat for more\) \(default: none\)$/);
  serve.parseOptions(['--cors', 'https://a.example', '--cors', 'https://b.example']);
  assert.deepEqual(serve.opts()['cors'], ['https://a.example', 'https://b.example']);
});

test("every option on the README's command-line synopsis exists on that command", async () => {
  const commands = await allCommands();
  const readme = readFileSync(new URL('../../README.md', import.meta.url), 'utf8');
  const block = /## Command line\n+```sh\n([\s\S]*?)```/.exec(readme)?.[1];
  assert.ok(block, 'README has a "## Command line" sh block');
  // Continuation lines (indented) belong to the command above them.
  const entries = block.split(/\n(?=agegender )/).map((e) => e.replace(/#.*$/gm, ''));
  let checked = 0;
  for (const entry of entries) {
    const name = /^agegender (queue \w+|\w+)/.exec(entry)?.[1];
    assert.ok(name && commands.has(name), `README synopsis names an unknown command: ${entry.split('\n')[0]}`);
    const known = new Set(commands.get(name)!.options.flatMap((o) => [o.long, o.short]));
    for (const [, flag] of entry.matchAll(/(?<![\w-])(--?[a-z][\w-]*)/g)) {
      checked++;
      assert.ok(known.has(flag!), `README: agegender ${name} has no option ${flag}`);
    }
  }
  assert.ok(checked > 50, `only ${checked} options found in the README synopsis`);
});

test('the option tables in docs/ list every option of their command, and only those', async () => {
  const commands = await allCommands();
  const tables: Array<{ doc: string; heading: string; command: string }> = [
    { doc: 'docs/serving.md', heading: '## HTTP service', command: 'serve' },
    { doc: 'docs/evaluation.md', heading: '## `agegender evaluate`', command: 'evaluate' },
    { doc: 'docs/evaluation.md', heading: '## `agegender explain <image>`', command: 'explain' },
    { doc: 'docs/evaluation.md', heading: '## `agegender report`', command: 'report' },
  ];
  for (const { doc, heading, command } of tables) {
    const text = readFileSync(new URL(`../../${doc}`, import.meta.url), 'utf8');
    const after = text.split('\n').slice(text.split('\n').indexOf(heading) + 1);
    assert.ok(text.split('\n').includes(heading), `${doc} has a "${heading}" section`);
    const start = after.findIndex((l) => l.startsWith('|'));
    const rows = after.slice(start, start + after.slice(start).findIndex((l) => !l.startsWith('|')));
    const documented = new Set(rows.flatMap((r) => [...(r.split('|')[1] ?? '').matchAll(/--[a-z][\w-]*/g)].map((m) => m[0])));
    const options = new Set(commands.get(command)!.options.map((o) => o.long!).filter((l) => l !== '--help'));
    assert.deepEqual([...options].filter((o) => !documented.has(o)), [], `${doc} "${heading}": options of ${command} missing from the table`);
    assert.deepEqual([...documented].filter((o) => !options.has(o)), [], `${doc} "${heading}": options in the table that ${command} lacks`);
  }
});
