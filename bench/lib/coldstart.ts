/**
 * Cold start: bundle sizes and the time a fresh Node process takes to load each bundle.
 *
 * Variants, all measured in the same run, interleaved (one run of each in turn, so a noisy
 * neighbour hits all of them alike):
 * - each deployed function (dist/functions/<name>/index.mjs and the chunks it imports
 *   statically), as scripts/build.mjs made it: an ES module split into chunks, so the chunks
 *   reached only through import() (code needed after containment or on rare paths) are not
 *   loaded at init;
 * - the same entry built with SAM's default esbuild settings (cjs, minify, mainFields
 *   main,module, target es2020): what the project's settings save;
 * - "first use": the responder's entry plus the construction of its containment clients
 *   (EC2, SNS, SSM, DynamoDB), with the deployed settings: what the first event pays on top
 *   of init, because the clients are built lazily (their code is loaded at init);
 * - an empty handler: the floor (Node's own start);
 * - a reference bundle of the same SDK clients the responder bundles, each constructed at
 *   module scope, built with SAM's default settings: what a typical function pays.
 */
import { build, type BuildOptions, type Metafile } from 'esbuild';
import { existsSync, mkdirSync, readdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { join, relative } from 'node:path';
import { gzipSync } from 'node:zlib';
import { REPO, runNode } from './proc';
import { median, summarize, type Summary } from './stats';

export const FUNCTIONS = ['responder', 'watcher', 'sweeper', 'hook'] as const;
const OUT = join(REPO, 'bench', '.data', 'cold');

/**
 * The settings scripts/build.mjs deploys the functions with (scripts/esbuild-settings.cjs): an
 * ES module split into chunks, with the SDK's schema modules made tree-shakeable. Give
 * `entryPoints: { index }` and `outdir`.
 */
export const DEPLOYED_SETTINGS = (require('../../scripts/esbuild-settings.cjs') as { LAMBDA_SETTINGS: BuildOptions }).LAMBDA_SETTINGS;

/** SAM's esbuild defaults (BuildProperties left out): Format cjs, Minify true, Target es2020, MainFields main,module. */
export const SAM_DEFAULT_SETTINGS: BuildOptions = {
  bundle: true,
  platform: 'node',
  target: 'es2020',
  format: 'cjs',
  mainFields: ['main', 'module'],
  minify: true,
};

/** The client class each SDK package exports. */
const CLIENT_CLASS: Record<string, string> = {
  '@aws-sdk/client-ec2': 'EC2Client',
  '@aws-sdk/client-sns': 'SNSClient',
  '@aws-sdk/client-ssm': 'SSMClient',
  '@aws-sdk/client-dynamodb': 'DynamoDBClient',
  '@aws-sdk/client-cloudformation': 'CloudFormationClient',
  '@aws-sdk/client-auto-scaling': 'AutoScalingClient',
  '@aws-sdk/client-elastic-load-balancing-v2': 'ElasticLoadBalancingV2Client',
  '@aws-sdk/client-cloudtrail': 'CloudTrailClient',
  '@aws-sdk/client-config-service': 'ConfigServiceClient',
  '@aws-sdk/client-sts': 'STSClient',
  '@aws-sdk/client-cloudwatch': 'CloudWatchClient',
  '@aws-sdk/client-codedeploy': 'CodeDeployClient',
  '@aws-sdk/client-lambda': 'LambdaClient',
};

/** Environment every variant loads under: a region, dummy credentials, the responder's settings. */
export const LOAD_ENV: NodeJS.ProcessEnv = {
  AWS_REGION: 'eu-west-1',
  AWS_ACCESS_KEY_ID: 'AKIAIOSFODNN7EXAMPLE',
  AWS_SECRET_ACCESS_KEY: 'wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY',
  DRIFTWARDEN_TOPIC_ARN: 'arn:aws:sns:eu-west-1:111122223333:driftwarden-alerts',
  DRIFTWARDEN_TABLE: 'driftwarden-audit',
  DRIFTWARDEN_STATE_TABLE: 'driftwarden-state',
  DRIFTWARDEN_POLICY: join(REPO, 'events', 'policy.yaml'),
  POWERTOOLS_SERVICE_NAME: 'driftwarden',
  POWERTOOLS_METRICS_NAMESPACE: 'driftwarden',
};

export interface Size {
  raw: number;
  gzip: number;
}

export interface Variant {
  name: string;
  kind: 'deployed' | 'sam-defaults' | 'first-use' | 'empty' | 'reference';
  function?: string;
  /** The file a fresh process loads (index.mjs of a split ES module). */
  bundle: string;
  /** The code loaded before the first event: the bundle and, for an ES module, every chunk it imports statically. */
  size: Size;
  /** Every JavaScript file of the build, chunks loaded on first use included (ES modules only). */
  allCode?: Size & { files: number };
  /** SDK client packages whose code is loaded only on first use (in chunks reached through import()). */
  sdkClientsOnFirstUse?: string[];
  /** The whole deployment package (the function's folder): raw, and deflated file by file as in a zip. */
  deploymentPackage?: Size & { files: number };
  /** SDK client packages in the bundle. */
  sdkClients: string[];
  load?: Summary;
  sinceStart?: Summary;
  error?: string;
}

export interface ColdStartResults {
  runs: number;
  variants: Variant[];
}

function sizeOf(file: string): Size {
  const bytes = readFileSync(file);
  return { raw: bytes.length, gzip: gzipSync(bytes, { level: 9 }).length };
}

/** Every file below `dir`, as a zip of the folder would hold them. */
function filesBelow(dir: string): string[] {
  return readdirSync(dir).flatMap((name) => {
    const p = join(dir, name);
    return statSync(p).isDirectory() ? filesBelow(p) : [p];
  });
}

const folderSize = (dir: string): Size & { files: number } => sizeOfFiles(filesBelow(dir));

function sdkClientsOf(meta: Metafile): string[] {
  return sdkClientsIn(Object.keys(meta.inputs));
}

function sdkClientsIn(inputs: Iterable<string>): string[] {
  const found = new Set<string>();
  for (const input of inputs) {
    const match = /node_modules\/(@aws-sdk\/client-[a-z0-9-]+)\//.exec(input);
    if (match) found.add(match[1]);
  }
  return [...found].sort();
}

/** What a split ES module build loads at init, and what it loads only on first use. */
export interface SplitBuild {
  /** The entry's output file (absolute). */
  entry: string;
  /** The entry and every chunk it imports statically, transitively (absolute paths). */
  loadedAtInit: string[];
  /** Every other JavaScript output: reached only through import(). */
  loadedOnFirstUse: string[];
  sdkClientsAtInit: string[];
  sdkClientsOnFirstUse: string[];
}

/**
 * Splits a build's outputs into what loading `entryPoint` loads (static imports, followed
 * transitively) and what it does not. Paths in the metafile are relative to `root`.
 */
export function splitBuild(meta: Metafile, entryPoint: string, root: string = REPO): SplitBuild {
  const outputs = meta.outputs;
  const entryKey = Object.keys(outputs).find((k) => outputs[k].entryPoint === entryPoint);
  if (!entryKey) throw new Error(`no output has the entry point ${entryPoint}`);
  const atInit = new Set<string>();
  const pending = [entryKey];
  while (pending.length > 0) {
    const key = pending.pop()!;
    if (atInit.has(key)) continue;
    atInit.add(key);
    for (const imported of outputs[key].imports) {
      if (imported.kind === 'import-statement' && !imported.external && outputs[imported.path]) pending.push(imported.path);
    }
  }
  const code = Object.keys(outputs).filter((k) => /\.m?js$/.test(k));
  const later = code.filter((k) => !atInit.has(k));
  const inputsOf = (keys: string[]) => keys.flatMap((k) => Object.keys(outputs[k].inputs));
  const initClients = sdkClientsIn(inputsOf([...atInit]));
  return {
    entry: join(root, entryKey),
    loadedAtInit: [...atInit].map((k) => join(root, k)),
    loadedOnFirstUse: later.map((k) => join(root, k)),
    sdkClientsAtInit: initClients,
    sdkClientsOnFirstUse: sdkClientsIn(inputsOf(later)).filter((c) => !initClients.includes(c)),
  };
}

/** Issue 8's budget for the code a function loads before its first event: 250 KB gzipped (read as 250,000 bytes, the stricter reading). */
export const INIT_CODE_BUDGET_BYTES = 250_000;

/** Raw and gzipped (level 9, file by file) size of `files`. */
export function sizeOfFiles(files: string[]): Size & { files: number } {
  const total = { raw: 0, gzip: 0, files: files.length };
  for (const f of files) {
    const s = sizeOf(f);
    total.raw += s.raw;
    total.gzip += s.gzip;
  }
  return total;
}

async function bundle(entry: { path?: string; contents?: string }, outfile: string, settings: BuildOptions): Promise<Metafile> {
  const result = await build({
    ...settings,
    absWorkingDir: REPO,
    ...(entry.path ? { entryPoints: [entry.path] } : { stdin: { contents: entry.contents ?? '', resolveDir: REPO, loader: 'ts', sourcefile: 'bench-entry.ts' } }),
    outfile,
    metafile: true,
    logLevel: 'error',
  });
  return result.metafile;
}

/** Builds `source` (written to a file, since code splitting takes no stdin) with the deployed settings into `outdir`. */
async function bundleSplit(source: string, outdir: string): Promise<SplitBuild> {
  mkdirSync(outdir, { recursive: true });
  const entryFile = join(outdir, 'entry.ts');
  writeFileSync(entryFile, source);
  const result = await build({
    ...DEPLOYED_SETTINGS,
    absWorkingDir: REPO,
    entryPoints: { index: entryFile },
    outdir,
    metafile: true,
    logLevel: 'error',
  });
  return splitBuild(result.metafile, relative(REPO, entryFile));
}

function entryOf(name: string): string | undefined {
  const entry = join(REPO, 'functions', name, 'index.ts');
  return existsSync(entry) ? entry : undefined;
}

/** Builds every variant whose source exists. */
export async function buildVariants(log: (line: string) => void): Promise<Variant[]> {
  mkdirSync(OUT, { recursive: true });
  const variants: Variant[] = [];
  let responderClients: string[] = [];

  for (const name of FUNCTIONS) {
    const deployed = join(REPO, 'dist', 'functions', name, 'index.mjs');
    const entry = entryOf(name);
    const metaFile = join(REPO, 'dist', 'meta', `${name}.json`);
    if (!existsSync(deployed) || !entry || !existsSync(metaFile)) {
      log(`cold start: ${name}: no bundle (dist/functions/${name}/index.mjs and dist/meta/${name}.json), skipped`);
      continue;
    }
    const meta = JSON.parse(readFileSync(metaFile, 'utf8')) as Metafile;
    const split = splitBuild(meta, relative(REPO, entry));
    const clients = sdkClientsOf(meta);
    if (name === 'responder') responderClients = clients;
    variants.push({
      name: `${name} (deployed)`,
      kind: 'deployed',
      function: name,
      bundle: deployed,
      size: sizeOfFiles(split.loadedAtInit),
      allCode: sizeOfFiles([...split.loadedAtInit, ...split.loadedOnFirstUse]),
      sdkClientsOnFirstUse: split.sdkClientsOnFirstUse,
      deploymentPackage: folderSize(join(REPO, 'dist', 'functions', name)),
      sdkClients: clients,
    });

    const sam = join(OUT, 'sam', `${name}.js`);
    const samMeta = await bundle({ path: entry }, sam, SAM_DEFAULT_SETTINGS);
    variants.push({ name: `${name} (SAM default settings)`, kind: 'sam-defaults', function: name, bundle: sam, size: sizeOf(sam), sdkClients: sdkClientsOf(samMeta) });
  }

  const containment = ['@aws-sdk/client-ec2', '@aws-sdk/client-sns', '@aws-sdk/client-ssm', '@aws-sdk/client-dynamodb'].filter(
    (p) => responderClients.length === 0 || responderClients.includes(p),
  );
  const responderEntry = entryOf('responder');
  if (responderEntry) {
    const contents = [
      `export { handler } from ${JSON.stringify(responderEntry.replace(/\.ts$/, ''))};`,
      ...containment.map((p, i) => `import { ${CLIENT_CLASS[p]} as C${i} } from ${JSON.stringify(p)};`),
      // The same construction the responder's first event does (default config: region from AWS_REGION).
      ...containment.map((_p, i) => `new C${i}({});`),
    ].join('\n');
    const split = await bundleSplit(contents, join(OUT, 'responder-first-use'));
    variants.push({
      name: 'responder + containment clients built (first use)',
      kind: 'first-use',
      function: 'responder',
      bundle: split.entry,
      size: sizeOfFiles(split.loadedAtInit),
      sdkClients: split.sdkClientsAtInit,
    });
  }

  const empty = join(OUT, 'empty.js');
  const emptyMeta = await bundle({ contents: 'export const handler = async () => ({});' }, empty, SAM_DEFAULT_SETTINGS);
  variants.push({ name: 'empty handler', kind: 'empty', bundle: empty, size: sizeOf(empty), sdkClients: sdkClientsOf(emptyMeta) });

  // The reference: the responder's own SDK clients (all of them, or the usual set before it exists).
  const referenceClients = (responderClients.length > 0 ? responderClients : Object.keys(CLIENT_CLASS).slice(0, 7)).filter((p) => CLIENT_CLASS[p]);
  const reference = join(OUT, 'reference-sdk-clients.js');
  const contents = [
    ...referenceClients.map((p, i) => `import { ${CLIENT_CLASS[p]} as C${i} } from ${JSON.stringify(p)};`),
    ...referenceClients.map((_p, i) => `const c${i} = new C${i}({});`),
    `export const handler = async () => [${referenceClients.map((_p, i) => `c${i}`).join(', ')}].length;`,
  ].join('\n');
  const refMeta = await bundle({ contents }, reference, SAM_DEFAULT_SETTINGS);
  variants.push({ name: `reference: ${referenceClients.length} SDK clients, SAM default settings`, kind: 'reference', bundle: reference, size: sizeOf(reference), sdkClients: sdkClientsOf(refMeta) });

  return variants;
}

/** Loads every variant `runs` times, round-robin, in fresh processes. */
export function measureVariants(variants: Variant[], runs: number, log: (line: string) => void): void {
  const samples = new Map<Variant, { load: number[]; since: number[] }>(variants.map((v) => [v, { load: [], since: [] }]));
  for (let r = 0; r < runs; r++) {
    for (const v of variants) {
      if (v.error) continue;
      const run = runNode([join(__dirname, 'load-once.cjs'), v.bundle, '--handler'], { env: LOAD_ENV });
      if (run.status !== 0) {
        v.error = `exit ${run.status}: ${run.stderr.trim().split('\n').slice(-3).join(' | ')}`;
        log(`cold start: ${v.name}: ${v.error}`);
        continue;
      }
      const { loadMs, sinceStartMs } = JSON.parse(run.stdout) as { loadMs: number; sinceStartMs: number };
      samples.get(v)!.load.push(loadMs);
      samples.get(v)!.since.push(sinceStartMs);
    }
    if ((r + 1) % 5 === 0) log(`cold start: ${r + 1}/${runs} rounds`);
  }
  for (const v of variants) {
    const s = samples.get(v)!;
    if (s.load.length > 0) {
      v.load = summarize(s.load);
      v.sinceStart = summarize(s.since);
    }
  }
}

export async function benchColdStart(runs: number, log: (line: string) => void): Promise<ColdStartResults> {
  const variants = await buildVariants(log);
  log(`cold start: ${variants.length} variants × ${runs} runs`);
  measureVariants(variants, runs, log);
  return { runs, variants };
}

/** Median load time of the first variant of a kind (and function), for ratios. */
export function loadMedian(results: ColdStartResults, kind: Variant['kind'], fn?: string): number | undefined {
  const v = results.variants.find((x) => x.kind === kind && (fn === undefined || x.function === fn));
  return v?.load?.median;
}

export const relativeToRepo = (p: string) => relative(REPO, p);
export { median };
