#!/usr/bin/env node
/**
 * Bundles every entry point with esbuild.
 *
 * - The AWS SDK is bundled, not external: the bundle that is tested is the bundle that is deployed.
 * - mainFields ['module', 'main']: esbuild's Node default picks the SDK's CommonJS build, which
 *   does not tree-shake; the ES module build makes the bundle about half the size.
 * - Output is CommonJS for Node 20 and 22 (Lambda nodejs22.x), minified, with a linked source map.
 * - The metafile of each bundle goes to dist/meta/<name>.json (for size budgets and analysis).
 * - Entries that do not exist yet are logged and skipped.
 */
import { build } from 'esbuild';
import { cpSync, existsSync, mkdirSync, writeFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = resolve(dirname(fileURLToPath(import.meta.url)), '..');

/** Entry → bundle. `name` names the metafile. */
const ENTRIES = [
  { name: 'responder', entry: 'functions/responder/index.ts', outfile: 'dist/functions/responder/index.js' },
  { name: 'watcher', entry: 'functions/watcher/index.ts', outfile: 'dist/functions/watcher/index.js' },
  { name: 'sweeper', entry: 'functions/sweeper/index.ts', outfile: 'dist/functions/sweeper/index.js' },
  { name: 'hook', entry: 'functions/hook/index.ts', outfile: 'dist/functions/hook/index.js' },
  { name: 'cli', entry: 'functions/cli/main.ts', outfile: 'dist/cli/driftwarden.js' },
];

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
  present.map(async ({ name, entry, outfile }) => {
    const result = await build({
      absWorkingDir: root,
      entryPoints: [entry],
      outfile,
      bundle: true,
      platform: 'node',
      target: 'node20',
      format: 'cjs',
      mainFields: ['module', 'main'],
      minify: true,
      sourcemap: 'linked',
      legalComments: 'none',
      metafile: true,
      logLevel: 'warning',
    });
    writeFileSync(join(root, 'dist/meta', `${name}.json`), JSON.stringify(result.metafile));
    const bytes = result.metafile.outputs[outfile]?.bytes ?? 0;
    return { name, outfile, bytes };
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
