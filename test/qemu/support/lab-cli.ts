/**
 * The `lab` command as main.ts will register it, runnable on its own so that tests can
 * spawn it (and kill it) before the lead wires it into src/cli/main.ts.
 */
import { Command, CommanderError } from 'commander';
import { addLabCommand } from '../../../src/cli/lab-command.ts';
import { InputError } from '../../../src/errors.ts';

async function main(argv: string[]): Promise<number> {
  let exitCode = 0;
  const program = new Command('vm-monitoring').exitOverride();
  addLabCommand(program, (code) => (exitCode = code));
  try {
    await program.parseAsync(argv);
    return exitCode;
  } catch (error) {
    if (error instanceof CommanderError) return error.exitCode === 0 ? 0 : 2;
    if (error instanceof InputError) {
      process.stderr.write(`vm-monitoring: ${error.toOneLine()}\n`);
      return 2;
    }
    process.stderr.write(`vm-monitoring: error: ${(error as Error).message}\n`);
    return 1;
  }
}

process.exitCode = await main(process.argv);
