/** Running a measured child process: wall time, peak memory, output. */
import { spawnSync } from 'node:child_process';
import { closeSync, mkdtempSync, openSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';

export const REPO = resolve(__dirname, '..', '..');
const MAXRSS_PRELOAD = join(__dirname, 'report-maxrss.cjs');

export interface ChildRun {
  wallMs: number;
  /** Peak resident set size, KiB (from the child's own process.resourceUsage()). */
  maxRssKiB: number;
  status: number | null;
  stdout: string;
  stderr: string;
}

export interface ChildOptions {
  /** Send stdout to /dev/null instead of capturing it. */
  discardStdout?: boolean;
  env?: NodeJS.ProcessEnv;
  cwd?: string;
}

/** Runs `node <args>` with the max-RSS reporter preloaded, and times it from spawn to exit. */
export function runNode(args: string[], options: ChildOptions = {}): ChildRun {
  const dir = mkdtempSync(join(tmpdir(), 'driftwarden-bench-'));
  const rssFile = join(dir, 'maxrss');
  const devNull = options.discardStdout ? openSync('/dev/null', 'w') : undefined;
  try {
    const started = process.hrtime.bigint();
    const result = spawnSync(process.execPath, ['-r', MAXRSS_PRELOAD, ...args], {
      cwd: options.cwd ?? REPO,
      env: { ...process.env, ...options.env, BENCH_MAXRSS_FILE: rssFile },
      stdio: ['ignore', devNull ?? 'pipe', 'pipe'],
      maxBuffer: 64 * 1024 * 1024,
      encoding: 'utf8',
    });
    const wallMs = Number(process.hrtime.bigint() - started) / 1e6;
    if (result.error) throw result.error;
    let maxRssKiB = 0;
    try {
      maxRssKiB = Number(readFileSync(rssFile, 'utf8'));
    } catch {
      maxRssKiB = 0;
    }
    return { wallMs, maxRssKiB, status: result.status, stdout: result.stdout ?? '', stderr: result.stderr ?? '' };
  } finally {
    if (devNull !== undefined) closeSync(devNull);
    rmSync(dir, { recursive: true, force: true });
  }
}
