/**
 * Preloaded (`--import`) into the report's child process by bench/report.ts where there is no
 * GNU `/usr/bin/time -v`: at exit, the process prints its own peak RSS (getrusage's maxrss,
 * KiB on Linux) to stderr as one line, `bench-max-rss-kib N`.
 */
process.on('exit', () => {
  process.stderr.write(`bench-max-rss-kib ${process.resourceUsage().maxRSS}\n`);
});
