/**
 * Preloaded into a measured process (`node -r bench/lib/report-maxrss.cjs ...`): at exit it
 * writes the process's peak resident set size, in KiB, to the file BENCH_MAXRSS_FILE names.
 * Preloading keeps `require.main` the measured program, so it runs exactly as it would alone.
 */
'use strict';
const { writeFileSync } = require('node:fs');

const target = process.env.BENCH_MAXRSS_FILE;
if (target) {
  process.on('exit', () => {
    writeFileSync(target, String(process.resourceUsage().maxRSS));
  });
}
