#!/usr/bin/env node
/**
 * Bundles every entry point with esbuild, with the settings of scripts/esbuild-settings.cjs
 * (read there why: ES modules split into chunks for the Lambda functions, CommonJS for the
 * CLI, the SDK's schema modules made tree-shakeable).
 *
 * - The metafile of each bundle goes to dist/meta/<name>.json (for size budgets and analysis).
 * - Entries that do not exist yet are logged and skipped.
 */
import { build } from 'esbuild';
import { cpSync, existsSync, mkdirSync, rmSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = resolve(dirname(fileURLToPath(import.meta.url)), '..');
const { CLI_SETTINGS, LAMBDA_SETTINGS } = createRequire(import.meta.url)('./esbuild-settings.cjs');

/** Entry → bundle: a folder (Lambda function: index.mjs and chunks/) or one file (the CLI). `name` names the metafile. */
const ENTRIES = [
  { name: 'responder', entry: 'functions/responder/index.ts', outdir: 'dist/functions/responder' },
  { name: 'watcher', entry: 'functions/watcher/index.ts', outdir: 'dist/functions/watcher' },
  { name: 'sweeper', entry: 'functions/sweeper/index.ts', outdir: 'dist/functions/sweeper' },
  { name: 'hook', entry: 'functions/hook/index.ts', outdir: 'dist/functions/hook' },
  { name: 'cli', entry: 'functions/cli/main.ts', outfile: 'dist/cli/driftwarden.js' },
  // The replay worker threads' own bundle (functions/cli/worker-main.ts says why).
  { name: 'cli-worker', entry: 'functions/cli/worker-main.ts', outfile: 'dist/cli/replay-worker.js' },
];

/** esbuild options for one entry. */
function buildOptions({ entry, outdir, outfile }) {
  const common = { absWorkingDir: root, sourcemap: 'linked', metafile: true, logLevel: 'warning' };
  if (outfile) return { ...CLI_SETTINGS, ...common, entryPoints: [entry], outfile };
  return { ...LAMBDA_SETTINGS, ...common, entryPoints: { index: entry }, outdir };
}

/**
 * Files the responder's self-test reads at run time: the pre-traffic hook invokes the new
 * responder version, which replays these samples in dry-run against this snapshot and policy
 * (functions/responder/self-test.ts). Copied beside the responder bundle.
 */
const SELF_TEST_ASSETS = [
  { from: 'events/positive', to: 'dist/functions/responder/self-test/positive' },
  { from: 'events/negative', to: 'dist/functions/responder/self-test/negative' },
  { from: 'events/invalid', to: 'dist/functions/responder/self-test/invalid' },
  { from: 'events/policy.yaml', to: 'dist/functions/responder/self-test/policy.yaml' },
  { from: 'events/account-snapshot.json', to: 'dist/functions/responder/self-test/account-snapshot.json' },
];

const started = Date.now();
const present = ENTRIES.filter(({ name, entry }) => {
  if (existsSync(join(root, entry))) return true;
  console.log(`build: skipping ${name}: ${entry} does not exist`);
  return false;
});

mkdirSync(join(root, 'dist/meta'), { recursive: true });

const results = await Promise.all(
  present.map(async (target) => {
    // A function's folder is its deployment package: start it empty, so no chunk or bundle of
    // an earlier build (an old index.js would shadow index.mjs) is shipped.
    if (target.outdir) rmSync(join(root, target.outdir), { recursive: true, force: true });
    const result = await build(buildOptions(target));
    writeFileSync(join(root, 'dist/meta', `${target.name}.json`), JSON.stringify(result.metafile));
    const outfile = target.outfile ?? `${target.outdir}/index.mjs`;
    const bytes = Object.entries(result.metafile.outputs)
      .filter(([path]) => path.endsWith('.js') || path.endsWith('.mjs'))
      .reduce((sum, [, output]) => sum + output.bytes, 0);
    return { name: target.name, outfile, bytes };
  }),
).catch((err) => {
  console.error(`build failed: ${err.message}`);
  process.exit(1);
});

if (existsSync(join(root, 'functions/responder'))) {
  for (const { from, to } of SELF_TEST_ASSETS) {
    const source = join(root, from);
    if (!existsSync(source)) {
      console.log(`build: self-test asset ${from} does not exist, not copied`);
      continue;
    }
    mkdirSync(dirname(join(root, to)), { recursive: true });
    cpSync(source, join(root, to), { recursive: true });
  }
}

for (const { name, outfile, bytes } of results) {
  console.log(`build: ${name.padEnd(10)} ${outfile.padEnd(36)} ${(bytes / 1024).toFixed(0).padStart(6)} KiB`);
}
console.log(`build: ${results.length} bundle(s) in ${Date.now() - started} ms`);
