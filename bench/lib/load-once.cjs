/**
 * One cold start: a fresh Node process loads one bundle then prints how long that took.
 *
 *   node bench/lib/load-once.cjs BUNDLE [--handler]
 *
 * With --handler, a bundle that exports no `handler` function is an error (exit 1).
 *
 * Prints {"loadMs":…,"sinceStartMs":…}: loadMs is the loading of the bundle (what Lambda
 * bills as the init phase, beyond the runtime's own start), sinceStartMs is from the
 * process's time origin to the end of that load.
 *
 * A CommonJS bundle (.js) is loaded with require(); an ES module (.mjs, the deployed
 * functions) with import(), which also loads every chunk it imports statically, and none of
 * those it imports on first use.
 */
'use strict';
const { performance } = require('node:perf_hooks');
const { pathToFileURL } = require('node:url');

async function main() {
  const bundle = process.argv[2];
  const started = performance.now();
  const loaded = bundle.endsWith('.mjs') ? await import(pathToFileURL(bundle).href) : require(bundle);
  if (process.argv[3] === '--handler' && typeof loaded?.handler !== 'function') {
    process.stderr.write(`load-once: ${bundle} exports no handler function\n`);
    process.exitCode = 1;
  }
  const ended = performance.now();
  process.stdout.write(`${JSON.stringify({ loadMs: ended - started, sinceStartMs: ended })}\n`);
}

main().catch((err) => {
  process.stderr.write(`load-once: ${err && err.stack ? err.stack : String(err)}\n`);
  process.exitCode = 1;
});
