/**
 * The built bundles, for the tests that check or run them (artifacts, the split of the
 * bundles, the moto integration suites). Every such test builds through `ensureBuilt`, which
 * builds at most once at a time: jest runs test files in parallel workers, and a build empties
 * each function's folder first, so two builds at once could pull a bundle from under a test.
 */
import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, readdirSync, rmSync, statSync } from 'node:fs';
import { join, resolve } from 'node:path';

export const ROOT = resolve(__dirname, '..', '..');

/** The Lambda functions scripts/build.mjs bundles. */
export const FUNCTIONS = ['responder', 'watcher', 'sweeper', 'hook'] as const;
export type FunctionName = (typeof FUNCTIONS)[number];

/** A function's entry module: an ES module, which Lambda's `index.handler` resolves. */
export const functionBundle = (name: FunctionName): string => join(ROOT, 'dist', 'functions', name, 'index.mjs');
/** The esbuild metafile of a function's build. */
export const functionMeta = (name: FunctionName): string => join(ROOT, 'dist', 'meta', `${name}.json`);

const BUILD_OUTPUTS = FUNCTIONS.flatMap((name) => [functionBundle(name), functionMeta(name)]);
const BUILD_LOCK = join(ROOT, 'dist', '.build.lock');
/** A lock older than this was left by a run that died: taken over. */
const STALE_LOCK_MS = 180_000;

function newestMtime(path: string): number {
  if (!existsSync(path)) return 0;
  const stat = statSync(path);
  if (!stat.isDirectory()) return stat.mtimeMs;
  let newest = stat.mtimeMs;
  for (const entry of readdirSync(path)) newest = Math.max(newest, newestMtime(join(path, entry)));
  return newest;
}

/** True when an output is missing or older than anything it is built from. */
export function bundleIsStale(): boolean {
  if (BUILD_OUTPUTS.some((file) => !existsSync(file))) return true;
  const built = Math.min(...BUILD_OUTPUTS.map((file) => statSync(file).mtimeMs));
  const sources = ['functions', 'events', 'scripts', 'package-lock.json'].map((p) => newestMtime(join(ROOT, p)));
  return Math.max(...sources) > built;
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/**
 * Builds with `node scripts/build.mjs` when the outputs are stale. A lock directory makes one
 * test file build while the others wait, then find the outputs fresh.
 */
export async function ensureBuilt(): Promise<void> {
  if (!bundleIsStale()) return;
  mkdirSync(join(ROOT, 'dist'), { recursive: true });
  const deadline = Date.now() + STALE_LOCK_MS;
  for (;;) {
    try {
      mkdirSync(BUILD_LOCK);
      break;
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== 'EEXIST') throw error;
      const age = Date.now() - (statSync(BUILD_LOCK, { throwIfNoEntry: false })?.mtimeMs ?? 0);
      if (age > STALE_LOCK_MS || Date.now() > deadline) rmSync(BUILD_LOCK, { recursive: true, force: true });
      await sleep(250);
    }
  }
  try {
    if (!bundleIsStale()) return;
    const build = spawnSync(process.execPath, [join(ROOT, 'scripts', 'build.mjs')], { cwd: ROOT, encoding: 'utf8', timeout: 120_000 });
    if (build.status !== 0) throw new Error(`node scripts/build.mjs failed (exit ${String(build.status)}):\n${build.stdout}\n${build.stderr}`);
  } finally {
    rmSync(BUILD_LOCK, { recursive: true, force: true });
  }
}
