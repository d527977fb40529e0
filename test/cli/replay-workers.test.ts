/**
 * Replay on worker threads prints exactly what replay in one thread prints. Worker threads
 * run the worker bundle, so this test bundles the current sources (as scripts/build.mjs does)
 * and runs the bundle in child processes, the way bin/driftwarden.js loads it.
 */
import { spawnSync } from 'node:child_process';
import { copyFileSync, mkdirSync, mkdtempSync, readdirSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { build, type BuildOptions } from 'esbuild';
import { generateArchive } from '../../bench/lib/generate';
import { defaultDeps } from '../../functions/cli/deps';
import type { InputFile } from '../../functions/cli/inputs';
import { WORKER_BUNDLE } from '../../functions/cli/main';
import { workerCount } from '../../functions/cli/replay';
import { describeRecord, sshOpenRecord } from './helpers';

jest.setTimeout(180_000);

const REPO = join(__dirname, '..', '..');
let work: string;
let bundle: string;
let archive: string;

beforeAll(async () => {
  work = mkdtempSync(join(tmpdir(), 'driftwarden-workers-'));
  bundle = join(work, 'cli', 'driftwarden.js');
  // The CLI bundle and the worker bundle beside it, with the settings of scripts/build.mjs.
  const { CLI_SETTINGS } = require('../../scripts/esbuild-settings.cjs') as { CLI_SETTINGS: BuildOptions };
  await Promise.all([
    build({ ...CLI_SETTINGS, absWorkingDir: REPO, entryPoints: ['functions/cli/main.ts'], outfile: bundle, logLevel: 'warning' }),
    build({ ...CLI_SETTINGS, absWorkingDir: REPO, entryPoints: ['functions/cli/worker-main.ts'], outfile: join(work, 'cli', WORKER_BUNDLE), logLevel: 'warning' }),
  ]);
  // Nine log files of mixed activity, a JSON Lines file between them, and the samples.
  archive = join(work, 'archive');
  generateArchive({ root: join(archive, 'trail'), files: 9, records: 4500, writeFraction: 0.1, seed: 11 });
  writeFileSync(join(archive, 'm-lines.jsonl'), `${JSON.stringify(sshOpenRecord('00000000-0000-4000-8000-000000000011'))}\n{not json\n${JSON.stringify(describeRecord('00000000-0000-4000-8000-000000000012'))}\n`);
  for (const folder of ['positive', 'negative', 'invalid']) {
    mkdirSync(join(archive, 'samples', folder), { recursive: true });
    for (const name of readdirSync(join(REPO, 'events', folder))) copyFileSync(join(REPO, 'events', folder, name), join(archive, 'samples', folder, name));
  }
});

/** Runs the bundle as bin/driftwarden.js does: required, then `run(argv)`. */
function cli(args: string[]): { status: number | null; stdout: string; stderr: string } {
  const script = `require(${JSON.stringify(bundle)}).run(process.argv.slice(1)).then((code) => { process.exitCode = code; });`;
  const result = spawnSync(process.execPath, ['-e', script, ...args], { cwd: REPO, encoding: 'utf8', maxBuffer: 256 * 1024 * 1024, env: { ...process.env, NO_COLOR: '1', COLUMNS: '140' } });
  return { status: result.status, stdout: result.stdout, stderr: result.stderr };
}

const dryRun = (...extra: string[]) => ['replay', archive, '--policy', join(REPO, 'events/policy.yaml'), '--account', join(REPO, 'events/account-snapshot.json'), ...extra];

describe('replay on worker threads', () => {
  it('writes byte for byte the JSON lines and summary of the replay in one thread', () => {
    const one = cli(dryRun('--json', '--workers', '0'));
    const pooled = cli(dryRun('--json', '--workers', '2'));
    expect(one.status).toBe(0);
    expect(one.stdout.split('\n').length).toBeGreaterThan(4500);
    expect(pooled.status).toBe(0);
    expect(pooled.stdout).toBe(one.stdout);
    expect(pooled.stderr).toBe(one.stderr);
  });

  it('writes byte for byte the table of the replay in one thread, with more workers than some folders have files', () => {
    const one = cli(dryRun('--workers', '0'));
    const pooled = cli(dryRun('--workers', '3'));
    expect(one.status).toBe(0);
    expect(one.stdout).toContain('SUMMARY');
    expect(pooled.stdout).toBe(one.stdout);
    expect(pooled.stderr).toBe(one.stderr);
  });

  it('stops at an unreadable file exactly where the replay in one thread stops, with the same error', () => {
    const broken = mkdtempSync(join(tmpdir(), 'driftwarden-broken-'));
    generateArchive({ root: join(broken, 'a'), files: 3, records: 300, seed: 5 });
    mkdirSync(join(broken, 'b'));
    writeFileSync(join(broken, 'b', 'corrupt.json.gz'), 'this is not gzip');
    generateArchive({ root: join(broken, 'c'), files: 3, records: 300, seed: 6 });
    const args = ['replay', broken, '--json', '--account', join(REPO, 'events/account-snapshot.json')];
    const one = cli([...args, '--workers', '0']);
    const pooled = cli([...args, '--workers', '2']);
    expect(one.status).toBe(1);
    expect(one.stderr).toContain(`cannot read ${join(broken, 'b', 'corrupt.json.gz')}`);
    expect(one.stdout.trim().split('\n').length).toBe(300);
    expect(pooled.status).toBe(1);
    expect(pooled.stdout).toBe(one.stdout);
    expect(pooled.stderr).toBe(one.stderr);
  });

  it('runs the workers from the worker bundle beside the CLI bundle, not from the CLI bundle itself', () => {
    const script = `process.stdout.write(String(require(${JSON.stringify(bundle)}).installedDeps().workerScript));`;
    const probe = spawnSync(process.execPath, ['-e', script], { encoding: 'utf8' });
    expect(probe.stdout).toBe(join(work, 'cli', WORKER_BUNDLE));
  });

  it('refuses workers with --execute: execution stays in one thread, in input order', () => {
    const result = cli(['replay', archive, '--execute', '--yes', '--workers', '2']);
    expect(result.status).toBe(2);
    expect(result.stderr).toContain('--workers is for dry runs');
  });
});

describe('how many workers a replay uses', () => {
  const logs = (count: number, size: number): InputFile[] => Array.from({ length: count }, (_, i) => ({ path: `f${i}.json.gz`, format: 'json.gz' as const, size }));
  const withBundle = { ...defaultDeps(), workerScript: '/dist/cli/driftwarden.js' };

  it('uses none without a bundle to run, with --execute, or with a core other than the default', () => {
    expect(workerCount({ execute: false }, defaultDeps(), logs(100, 1 << 20))).toBe(0);
    expect(workerCount({ execute: true, workers: 2 }, withBundle, logs(100, 1 << 20))).toBe(0);
    expect(workerCount({ execute: false, workers: 2 }, { ...withBundle, evaluate: async () => ({ rejection: { rejected: true, code: 'not-json', reason: 'x' } }) }, logs(100, 1 << 20))).toBe(0);
  });

  it('uses none for a small input unless asked, and never more than there are whole files', () => {
    expect(workerCount({ execute: false }, withBundle, logs(3, 1024))).toBe(0);
    expect(workerCount({ execute: false, workers: 2 }, withBundle, logs(3, 1024))).toBe(2);
    expect(workerCount({ execute: false, workers: 8 }, withBundle, logs(3, 1024))).toBe(3);
    expect(workerCount({ execute: false, workers: 2 }, withBundle, [{ path: 'a.jsonl', format: 'jsonl', size: 1 << 30 }])).toBe(0);
  });

  it('uses one per core, at most four, for a large input', () => {
    const n = workerCount({ execute: false }, withBundle, logs(100, 1 << 20));
    expect(n).toBeGreaterThanOrEqual(1);
    expect(n).toBeLessThanOrEqual(4);
  });
});
