/**
 * The esbuild settings of every bundle, in one place: scripts/build.mjs builds with them and
 * the cold-start benchmark (bench/lib/coldstart.ts) rebuilds variants with the very same ones.
 *
 * - The AWS SDK is bundled, not external: the bundle that is tested is the bundle that is deployed.
 * - mainFields ['module', 'main']: esbuild's Node default picks the SDK's CommonJS build, which
 *   does not tree-shake; the ES module build makes the bundle about half the size.
 * - The SDK's schema modules are made tree-shakeable (scripts/sdk-schema-keys.cjs): without
 *   that every bundle that builds an EC2Client carries every EC2 operation's shapes (~540 KiB).
 * - Lambda functions are ES modules with code splitting: `index.mjs` (Lambda's `index.handler`
 *   finds it) plus `chunks/*.mjs`. Each `import()` becomes a chunk loaded when first reached,
 *   so init loads only what the first event needs: the SDK's own rarely used credential
 *   providers (SSO, INI files, web identity, the STS client), the clients used only after
 *   containment or for tamper (functions/aws/later-clients.ts) and the steps that use them,
 *   and the Organizations client (sweeper, Organization mode) are chunks.
 * - The CLI is one CommonJS file: its replay workers start that same file.
 * - Node 20 and 22 (Lambda nodejs22.x), minified, linked source maps.
 */
'use strict';
const { sdkSchemaKeys } = require('./sdk-schema-keys.cjs');

/** Settings every bundle shares. */
const SHARED_SETTINGS = {
  bundle: true,
  platform: 'node',
  target: 'node20',
  mainFields: ['module', 'main'],
  minify: true,
  legalComments: 'none',
  plugins: [sdkSchemaKeys],
};

/**
 * What an ES module bundle defines first, in each of its files: the CommonJS names that
 * bundled CommonJS code (and a few SDK modules) still use. `require` serves only Node's
 * built-in modules here; everything else is bundled.
 */
const ESM_BANNER = [
  "import { createRequire as __dwCreateRequire } from 'node:module';",
  "import { fileURLToPath as __dwFileURLToPath } from 'node:url';",
  "import { dirname as __dwDirname } from 'node:path';",
  'const require = __dwCreateRequire(import.meta.url);',
  'const __filename = __dwFileURLToPath(import.meta.url);',
  'const __dirname = __dwDirname(__filename);',
].join('\n');

/** A Lambda function: give `entryPoints: { index: <entry> }` and `outdir`. */
const LAMBDA_SETTINGS = {
  ...SHARED_SETTINGS,
  format: 'esm',
  splitting: true,
  outExtension: { '.js': '.mjs' },
  chunkNames: 'chunks/[name]-[hash]',
  banner: { js: ESM_BANNER },
};

/** The CLI: give `entryPoints` and `outfile`. */
const CLI_SETTINGS = { ...SHARED_SETTINGS, format: 'cjs' };

module.exports = { SHARED_SETTINGS, LAMBDA_SETTINGS, CLI_SETTINGS, ESM_BANNER };
