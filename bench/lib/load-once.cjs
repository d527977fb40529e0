/**
 * One cold start: a fresh Node process loads one bundle then prints how long that took.
 *
 *   node bench/lib/load-once.cjs BUNDLE [--handler]
 *
 * With --handler, a bundle that exports no `handler` function is an error (exit 1).
 *
 * Prints {"loadMs":…,"sinceStartMs":…}: loadMs is the require() of the bundle (what Lambda
 * bills as the init phase, beyond the runtime's own start), sinceStartMs is from the
 * process's time origin to the end of that load.
 */
'use strict';
const { performance } = require('node:perf_hooks');

const bundle = process.argv[2];
const started = performance.now();
const loaded = require(bundle);
if (process.argv[3] === '--handler' && typeof loaded?.handler !== 'function') {
  process.stderr.write(`load-once: ${bundle} exports no handler function\n`);
  process.exitCode = 1;
}
const ended = performance.now();
process.stdout.write(`${JSON.stringify({ loadMs: ended - started, sinceStartMs: ended })}\n`);
