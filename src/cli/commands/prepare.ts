import type { Command } from 'commander';
import { DEFAULTS } from '../../core/defaults.js';
import { oneOf, parseNumberOption } from '../../core/validate.js';
import { DEDUP_POLICIES } from '../../data/dedup.js';
import { prepare } from '../../data/prepare.js';
import { formatSummary } from '../../data/summary.js';
import { prepareProgress } from '../progress.js';
import { parseSplitFractions } from '../split-options.js';
import { WORKSPACE_FILES } from '../../workspace/layout.js';

export function registerPrepareCommand(program: Command): void {
  const d = DEFAULTS.prepare;
  program
    .command('prepare')
    .description('hash, deduplicate, label and split a face dataset (folders or .zip archives) into a workspace')
    .argument('<inputs...>', 'folders and/or .zip archives (e.g. UTKFace/ crop_part1/ or the Kaggle zip)')
    .requiredOption('-o, --out <workspace>', `workspace folder for ${WORKSPACE_FILES.manifest}, ${WORKSPACE_FILES.summary}, cache/ and ${WORKSPACE_FILES.splits}/`)
    .option('-t, --threshold <bits>', 'near-duplicate pHash Hamming distance', String(d.threshold))
    .option('-p, --policy <policy>', `near-duplicate policy: ${DEDUP_POLICIES.join(' | ')}`, d.policy)
    .option('--group-distance <bits>', 'files within this distance never straddle splits', String(d.groupDistance))
    .option('--audit-distance <bits>', 'leakage audit: count the pairs across splits within this distance', String(d.auditDistance))
    .option('--seed <n>', 'split seed', String(d.seed))
    .option('--split <train,val,test>', 'train,val,test shares: percentages that sum to 100 or fractions that sum to 1 (train and val above 0)', d.fractions.map((f) => f * 100).join(','))
    .option('--materialize [mode]', `link (default) or copy kept files into <workspace>/${WORKSPACE_FILES.splits}/<split>/`)
    .option('--json', 'print the summary as JSON')
    .action(async (inputs: string[], opts: Record<string, string | boolean | undefined>) => {
      const materialize = opts.materialize === undefined ? false : opts.materialize === true ? 'link' : oneOf(opts.materialize, '--materialize', ['link', 'copy'] as const);
      const progress = prepareProgress();
      const summary = await prepare({
        inputs,
        workspace: String(opts.out),
        threshold: parseNumberOption(String(opts.threshold), '--threshold', 0, 32, true),
        policy: oneOf(opts.policy, '--policy', DEDUP_POLICIES),
        groupDistance: parseNumberOption(String(opts.groupDistance), '--group-distance', 0, 32, true),
        auditDistance: parseNumberOption(String(opts.auditDistance), '--audit-distance', 0, 32, true),
        seed: parseNumberOption(String(opts.seed), '--seed', 0, 2 ** 32 - 1, true),
        fractions: parseSplitFractions(String(opts.split)),
        materialize,
        command: ['agegender', ...process.argv.slice(2)].join(' '),
        onProgress: progress.onProgress,
      });
      progress.stop();
      process.stdout.write(opts.json ? `${JSON.stringify(summary, null, 2)}\n` : `${formatSummary(summary)}\nworkspace: ${summary.settings.workspace}\n`);
    });
}
