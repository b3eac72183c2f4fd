// Runs the `agegender train` command module directly (same code the CLI wires in), so the shipped
// model can be trained before/without the CLI entry point:
//   node --import tsx scripts/model-train.ts train --workspace workspace/utk --out models/default
import { Command } from 'commander';
import { registerTrainCommand } from '../src/cli/commands/train.js';

const program = new Command().name('agegender');
registerTrainCommand(program);
await program.parseAsync(process.argv);
