#!/usr/bin/env node
/**
 * `driftwarden` command. Runs the bundled CLI; after a fresh `npm ci` (no dist/ yet) it
 * builds first, so `npx driftwarden` works from a clean checkout.
 */
'use strict';
const { existsSync } = require('node:fs');
const { spawnSync } = require('node:child_process');
const path = require('node:path');

const root = path.resolve(__dirname, '..');
const bundle = path.join(root, 'dist', 'cli', 'driftwarden.js');
// The replay worker threads' bundle, built with it.
const workerBundle = path.join(root, 'dist', 'cli', 'replay-worker.js');

if (!existsSync(bundle) || !existsSync(workerBundle)) {
  const built = spawnSync(process.execPath, [path.join(root, 'scripts', 'build.mjs')], { cwd: root, stdio: ['ignore', 'ignore', 'inherit'] });
  if (built.status !== 0 || !existsSync(bundle)) {
    process.stderr.write('driftwarden: could not build the CLI (node scripts/build.mjs failed)\n');
    process.exit(1);
  }
}

const { run } = require(bundle);
run(process.argv.slice(2)).then(
  (code) => {
    process.exitCode = code;
  },
  (err) => {
    process.stderr.write(`driftwarden: ${err && err.stack ? err.stack : String(err)}\n`);
    process.exitCode = 1;
  },
);
