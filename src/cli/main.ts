import { Command, CommanderError, Option } from 'commander';
import { escapeInvisible, InputError } from '../errors.ts';
import { DEFAULT_PLATFORM, PLATFORMS } from '../platforms/registry.ts';
import { PROFILE_NAMES } from '../platforms/sim/profiles.ts';
import { calibrateCheckCommand } from './calibrate-check-command.ts';
import { calibrateCommand, type CalibrateFlags } from './calibrate-command.ts';
import { DEFAULT_CHECK_PROFILE } from './calibrate-profile.ts';
import { addLabCommand } from './lab-command.ts';
import { nonNegativeInteger, positiveInteger, positiveNumber } from './options.ts';
import { collectLabel, reportCommand, type ReportFlags } from './report-command.ts';
import { EXIT_RUN_FAILED, runCommand, type RunFlags } from './run-command.ts';
import { TOOL_VERSION } from '../version.ts';

const EXIT_BAD_INPUT = 2;

function buildProgram(setExitCode: (code: number) => void): Command {
  const program = new Command('vm-monitoring')
    .description('Run scripted live-migration experiments and record what really happened.')
    .version(TOOL_VERSION)
    .exitOverride()
    // One line, keeping commander's suggestion ("(Did you mean --platform?)") that it puts on a line of its own.
    .configureOutput({
      outputError: (message, write) => write(`vm-monitoring: ${escapeInvisible(message.trim().split('\n').map((line) => line.trim()).join(' '))}\n`),
    });

  program
    .command('run')
    .description('run a script (the seed\'s format) and write CSV to stdout and a run directory')
    .argument('<script>', 'the experiment script')
    .addOption(new Option('--platform <name>', 'where to run it').choices(Object.keys(PLATFORMS)).default(DEFAULT_PLATFORM))
    .option('--config <file>', 'platform config (YAML or JSON)')
    .option('--policy <file>', 'parameters of the script\'s drs, dpm and maintenance actions (YAML or JSON; see samples/drs/policy.yaml)')
    .option('--out <dir>', 'run directory (default: runs/<timestamp>)')
    .option('--interval <seconds>', 'sampling interval (default: the platform\'s refresh rate; sim: 20 s, qemu: 1 s)', positiveNumber)
    .option('--seed <n>', 'random seed of the simulated platform', nonNegativeInteger, 1)
    .option('--max-migrations-per-host <n>', 'concurrent migrations a host may take part in', positiveInteger, 4)
    .showHelpAfterError(false)
    .exitOverride()
    .option('--report', 'write the report (tables, charts, HTML) into RUN_DIR/report at the end')
    .option('--ca-file <pem>', 'also trust this CA when the platform is reached over TLS')
    .option('--insecure', 'do not verify the platform\'s TLS certificate (says so on stderr)')
    .option('--serve <[host:]port>', 'while the run goes, serve a live page of it at / (updated over server-sent events at /events) and its metrics (Prometheus text format) at /metrics; writes the report as --report does, which the page then shows; loopback unless --serve-beyond-loopback')
    .option('--serve-beyond-loopback', 'let --serve listen on an address other than loopback')
    .option('--pace <factor>', 'sim: at most this many experiment seconds per wall second, to watch a run live', positiveNumber)
    .action(async (script: string, flags: RunFlags) => setExitCode(await runCommand(script, flags)));

  program
    .command('report')
    .description('turn run directories into the seed\'s tables and figures: report.html, SVG/PNG charts, Markdown/CSV tables')
    .argument('[runDirs...]', 'run directories written by `run`')
    .option('--out <dir>', 'where to write (default: RUN_DIR/report for one run, report/ for several)')
    .option('--host <host>', 'host whose counters are charted (default: the one receiving most migrations)')
    .option('--label <name=dir>', 'name a run in tables and legends (repeatable; adds the run if not listed)', collectLabel, [])
    .showHelpAfterError(false)
    .exitOverride()
    .action(async (runDirs: string[], flags: ReportFlags) => setExitCode(await reportCommand(runDirs, flags)));

  addLabCommand(program, setExitCode);

  program
    .command('calibrate')
    .description(
      'measure single-VM migrations on the qemu lab, fit the sim\'s qemu profile on half of them, report its errors on the other half; ' +
        'or, with --check, predict measured migrations with a saved profile and report its errors',
    )
    .option('--grid <file>', 'the cases (YAML or JSON; default samples/calibrate/grid.yaml; with --check, none: the cases are the file\'s columns); repeatable with as many --measured', collectFile)
    .option('--out <dir>', 'where to write tables, charts, report.html and the fitted profile (default: calibrations/<timestamp>; with --check, nothing without it)')
    .option('--measured <csv>', 'take the measurements from an earlier calibration\'s measured.csv instead of the lab; repeatable, one per --grid, in order', collectFile)
    .addOption(
      new Option('--check <csv>', 'predict the migrations measured in this file with a saved profile, no fitting (columns: see the README; with --grid, a measured.csv)').conflicts('measured'),
    )
    .addOption(
      new Option(
        '--held-out <csv>',
        'also predict the migrations of this measured file (its cases in columns, as --check reads them: another harness) with the fitted profile, ' +
          'its guest re-derived from its own rows (idle memory, and the freed pages a buffer reuses), and report them apart; never fitted on; repeatable',
      )
        .argParser(collectFile)
        .conflicts('check'),
    )
    .option(
      '--app-cost <run-dir>',
      'also compare what migration cost the application in this lab run (the seed\'s Table 2) with the sim running its script on its twin config with the fitted (or checked) profile; repeatable',
      collectFile,
    )
    .option('--twin <config>', 'with --app-cost: the sim config of the lab run\'s twin (default samples/qemu/sim.yaml); one for all runs, or one per --app-cost in order', collectFile)
    .option('--profile <name|file>', `with --check: ${PROFILE_NAMES.join(', ')} or a fitted-profile.json (default ${DEFAULT_CHECK_PROFILE})`)
    .option('--fit-guest', 'with --check: re-derive the guest from the file\'s rows (a guest other than the profile\'s): its idle non-zero memory from the idle ones, the freed pages a buffer reuses from those holding one; nothing else changes')
    .option('--searches <n>', 'independent global searches of the fit (the best wins)', positiveInteger, 3)
    .option('--population <n>', 'candidate parameter sets per generation of a search', positiveInteger, 40)
    .option('--generations <n>', 'generations of a search (each runs the sim on the fit half once per candidate)', positiveInteger, 40)
    .showHelpAfterError(false)
    .exitOverride()
    .action(async (flags: CalibrateFlags & { check?: string }) =>
      setExitCode(await (flags.check === undefined ? calibrateCommand(flags) : calibrateCheckCommand({ ...flags, check: flags.check, grid: onlyGrid(flags.grid) }))),
    );
  return program;
}

/** A repeatable file option: each use adds one. */
function collectFile(value: string, previous: string[] | undefined): string[] {
  return [...(previous ?? []), value];
}

/** `--check` predicts one measured file: from one grid at most. */
function onlyGrid(grids: string[] | undefined): string | undefined {
  if (grids !== undefined && grids.length > 1) throw new InputError('--check takes one --grid (the one its measured.csv was measured from)');
  return grids?.[0];
}

async function main(argv: string[]): Promise<number> {
  let exitCode = 0;
  const program = buildProgram((code) => (exitCode = code));
  try {
    await program.parseAsync(argv);
    return exitCode;
  } catch (error) {
    if (error instanceof CommanderError) {
      return error.exitCode === 0 ? 0 : EXIT_BAD_INPUT;
    }
    if (error instanceof InputError) {
      process.stderr.write(`vm-monitoring: ${error.toOneLine()}\n`);
      return EXIT_BAD_INPUT;
    }
    const message = error instanceof Error ? error.message : String(error);
    process.stderr.write(`vm-monitoring: error: ${escapeInvisible(message)}\n`);
    if (process.env.VM_MONITORING_DEBUG && error instanceof Error) process.stderr.write(`${error.stack}\n`);
    return EXIT_RUN_FAILED;
  }
}

process.exitCode = await main(process.argv);
