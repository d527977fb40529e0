/**
 * Replay throughput: `driftwarden replay` (the built CLI) over a generated 1,000-file,
 * 1M-record CloudTrail archive, against the floor of gunzip + JSON.parse of the same files,
 * in the same run; and peak memory for 100 files against 1,000.
 *
 * Each of the two big runs happens once (each takes a minute or more on the 2-core
 * machine); the 100-file run also once. The figures are ratios within one run.
 */
import { existsSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { generateArchive, type ArchiveSummary, DEFAULT_SEED } from './generate';
import { REPO, runNode } from './proc';

export const ARCHIVE_PARAMS = { files: 1000, records: 1_000_000, writeFraction: 0.02, seed: DEFAULT_SEED };
const DATA = join(REPO, 'bench', '.data');
const ARCHIVE = join(DATA, 'archive');
const MANIFEST = join(DATA, 'archive.json');
const CLI = join(REPO, 'dist', 'cli', 'driftwarden.js');

export interface Archive {
  root: string;
  files: string[];
  records: number;
  writes: number;
  compressedBytes: number;
  uncompressedBytes: number;
  generatedNow: boolean;
  generateMs?: number;
}

/** The archive, generated only when missing or made with other parameters. */
export function ensureArchive(log: (line: string) => void): Archive {
  if (existsSync(MANIFEST)) {
    const manifest = JSON.parse(readFileSync(MANIFEST, 'utf8')) as { params: typeof ARCHIVE_PARAMS; summary: Omit<ArchiveSummary, 'files'> };
    const files = listFiles(ARCHIVE);
    if (JSON.stringify(manifest.params) === JSON.stringify(ARCHIVE_PARAMS) && files.length === ARCHIVE_PARAMS.files) {
      return { root: ARCHIVE, files, ...manifest.summary, generatedNow: false };
    }
  }
  log(`replay: generating ${ARCHIVE_PARAMS.files} log files, ${ARCHIVE_PARAMS.records} records into ${ARCHIVE} (seed ${ARCHIVE_PARAMS.seed})`);
  rmSync(ARCHIVE, { recursive: true, force: true });
  const started = Date.now();
  const summary = generateArchive({ root: ARCHIVE, ...ARCHIVE_PARAMS });
  const generateMs = Date.now() - started;
  const { files: _files, ...rest } = summary;
  writeFileSync(MANIFEST, JSON.stringify({ params: ARCHIVE_PARAMS, summary: rest }, null, 2));
  return { root: ARCHIVE, files: listFiles(ARCHIVE), ...rest, generatedNow: true, generateMs };
}

/** Every .json.gz under root, in the order the CLI visits them (each folder sorted). */
export function listFiles(root: string): string[] {
  if (!existsSync(root)) return [];
  const out: string[] = [];
  const visit = (dir: string) => {
    for (const name of readdirSync(dir).sort()) {
      const p = join(dir, name);
      if (statSync(p).isDirectory()) visit(p);
      else if (name.endsWith('.json.gz')) out.push(p);
    }
  };
  visit(root);
  return out;
}

export interface ThroughputRun {
  files: number;
  records: number;
  wallMs: number;
  maxRssKiB: number;
  recordsPerSecond: number;
  /** Uncompressed JSON megabytes (10^6 bytes) per second. */
  mbPerSecond: number;
  /** Compressed (as stored) megabytes per second. */
  gzMbPerSecond: number;
}

/** One round: the floor and the replay of the whole archive, back to back. */
export interface ReplayRound {
  floor: ThroughputRun;
  replay: ThroughputRun;
  /** Replay records/s over floor records/s. */
  ratio: number;
  /** Which ran first (the order alternates from round to round). */
  first: 'floor' | 'replay';
}

export interface ReplayResults {
  archive: Archive;
  /** Every round, in the order run. */
  rounds: ReplayRound[];
  /** The round whose ratio is the median of all rounds' (the lower middle one for an even count). */
  floor: ThroughputRun;
  replay: ThroughputRun;
  replay100: ThroughputRun;
  /** The replay's own summary (stderr), to show what it found. */
  replaySummary: string;
}

function throughput(files: number, records: number, bytes: { gz: number; raw: number }, wallMs: number, maxRssKiB: number): ThroughputRun {
  const s = wallMs / 1000;
  return { files, records, wallMs, maxRssKiB, recordsPerSecond: records / s, mbPerSecond: bytes.raw / 1e6 / s, gzMbPerSecond: bytes.gz / 1e6 / s };
}

function replayArgs(paths: string[]): string[] {
  return [CLI, 'replay', ...paths, '--policy', join(REPO, 'events/policy.yaml'), '--account', join(REPO, 'events/account-snapshot.json'), '--json'];
}

/** Records read, from the replay summary on stderr. */
function recordsRead(stderr: string): number {
  const match = /records read\s+(\d+)/.exec(stderr);
  return match ? Number(match[1]) : Number.NaN;
}

/**
 * Floor and replay, `rounds` times, back to back, the order alternating from round to round:
 * the machine is shared, and a neighbour that slows one run down for a while then weighs on
 * both runs of a round. The ratio reported is the median of the rounds' ratios.
 */
export function benchReplay(log: (line: string) => void, rounds = 3): ReplayResults {
  if (!existsSync(CLI)) throw new Error(`${CLI} does not exist: run node scripts/build.mjs first`);
  const archive = ensureArchive(log);
  const bytes = { gz: archive.compressedBytes, raw: archive.uncompressedBytes };

  const listFile = join(DATA, 'files.txt');
  writeFileSync(listFile, `${archive.files.join('\n')}\n`);
  const runFloor = (): ThroughputRun => {
    const run = runNode([join(__dirname, 'floor.cjs'), listFile]);
    if (run.status !== 0) throw new Error(`floor failed: ${run.stderr}`);
    const records = (JSON.parse(run.stdout) as { records: number }).records;
    return throughput(archive.files.length, records, bytes, run.wallMs, run.maxRssKiB);
  };
  let replaySummary = '';
  const runReplay = (): ThroughputRun => {
    const run = runNode(replayArgs([archive.root]), { discardStdout: true });
    if (run.status !== 0) throw new Error(`replay failed (${run.status}): ${run.stderr.slice(-2000)}`);
    replaySummary = run.stderr.trim();
    return throughput(archive.files.length, recordsRead(run.stderr), bytes, run.wallMs, run.maxRssKiB);
  };

  const done: ReplayRound[] = [];
  for (let i = 0; i < Math.max(1, rounds); i++) {
    const first = i % 2 === 0 ? 'floor' : 'replay';
    log(`replay: round ${i + 1}/${rounds}: floor (gunzip + JSON.parse) and driftwarden replay --json > /dev/null, 1,000 files each, ${first} first`);
    let floor: ThroughputRun;
    let replay: ThroughputRun;
    if (first === 'floor') {
      floor = runFloor();
      replay = runReplay();
    } else {
      replay = runReplay();
      floor = runFloor();
    }
    done.push({ floor, replay, ratio: replay.recordsPerSecond / floor.recordsPerSecond, first });
  }
  const median = [...done].sort((a, b) => a.ratio - b.ratio)[Math.floor((done.length - 1) / 2)];

  log('replay: the first 100 files, for peak memory');
  const first = archive.files.slice(0, 100);
  const share = first.length / archive.files.length;
  const small = runNode(replayArgs(first), { discardStdout: true });
  if (small.status !== 0) throw new Error(`replay of 100 files failed (${small.status}): ${small.stderr.slice(-2000)}`);
  const sizes = first.reduce((n, f) => n + statSync(f).size, 0);
  const replay100 = throughput(first.length, recordsRead(small.stderr), { gz: sizes, raw: bytes.raw * share }, small.wallMs, small.maxRssKiB);

  return { archive, rounds: done, floor: median.floor, replay: median.replay, replay100, replaySummary };
}
