/** This process's command line as a person would type it again: `vm-monitoring ARGS`, quoted for a POSIX shell where needed. */
export function commandLine(args: readonly string[] = process.argv.slice(2)): string {
  const quote = (arg: string): string => (/^[\w@%+=:,./-]+$/.test(arg) ? arg : `'${arg.replaceAll("'", `'\\''`)}'`);
  return ['vm-monitoring', ...args.map(quote)].join(' ');
}
