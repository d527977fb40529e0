/**
 * `driftwarden replay`: run recorded events through the same core the Lambda runs.
 *
 * Dry-run unless `execute` is set. Streams file by file and event by event, in input order:
 * one JSON line per input with `--json`, else one table row per event, then the summary.
 * A large dry run replays whole files on worker threads (replay-pool.ts, one per core) and
 * writes what they return in input order: the same bytes as in one thread. `--execute`
 * always runs in this thread, in input order.
 * Without an account snapshot every lookup is "unknown", so plans fail closed (held), and
 * the summary says why.
 */
import { availableParallelism } from 'node:os';
import { resolve } from 'node:path';
import { SingleBar } from 'cli-progress';
import type { ContextReader } from '../core/context';
import type { StepOutcome } from '../core/decision';
import type { Rejection } from '../core/model';
import type { Evaluation } from '../core/pipeline';
import type { Policy } from '../core/policy/schema';
import { renderHeader, renderSummary, tableLayout } from '../core/report/table';
import type { ReplaySummary } from '../core/report/table';
import { usesDefaultCore } from './deps';
import type { AwsRuntime, CliDeps } from './deps';
import { listInputFiles, prefetchFileText, readInputs } from './inputs';
import type { InputFile } from './inputs';
import { BufferedWriter, readLine, useColor } from './io';
import type { CliIo } from './io';
import { countEvaluation, emptyTally, mergeTally, renderer } from './render';
import type { OutputFormat } from './render';
import { ReplayPool } from './replay-pool';
import type { FileResult } from './replay-pool';
import { REPLAY_WORKER_FLAG } from './replay-worker';
import { NO_SNAPSHOT_REASON, UnknownContextReader } from './unknown-reader';

export { jsonLine } from './render';

export interface ReplayOptions {
  paths: string[];
  policy?: string;
  account?: string;
  json: boolean;
  execute: boolean;
  yes: boolean;
  /**
   * Worker threads for a dry run (never with `execute`). Default: one per core, at most
   * `MAX_WORKERS`, when the input is large enough to gain from them (`POOL_MIN_BYTES`) and
   * `deps.workerScript` is set; 0 replays in this thread.
   */
  workers?: number;
}

/** Workers by default: one per core, at most this many (the replay is bound by parsing, which does not gain past a few). */
const MAX_WORKERS = 4;
/** Starting a worker costs about a bundle load (~0.2 s): by default, only inputs at least this large (on disk) use them. */
const POOL_MIN_BYTES = 8 * 1024 * 1024;

/** Progress is shown only on a terminal, and only when the input is large enough to wait for. */
const PROGRESS_MIN_FILES = 6;
const PROGRESS_MIN_RECORDS = 2000;

/** A user-facing failure: printed as is, exit code 1 (2 for bad usage). */
export class CliFailure extends Error {
  constructor(
    message: string,
    readonly exitCode = 1,
  ) {
    super(message);
  }
}

/** A plan the executor has something to do for (containment, replacement, or an alert). */
const hasWork = (evaluation: Evaluation): evaluation is EvaluationOf => !('rejection' in evaluation) && evaluation.plan.steps.length > 0;

export async function replay(options: ReplayOptions, io: CliIo, deps: CliDeps): Promise<number> {
  const warn = (line: string) => io.stderr.write(`driftwarden: ${line}\n`);

  // Refuse before touching anything: an unattended --execute must be explicit.
  if (options.execute && !options.yes && io.stdin.isTTY !== true) {
    throw new CliFailure('replay --execute needs confirmation, and stdin is not a terminal: pass --yes to execute without asking.');
  }

  const policy = await deps.loadPolicy(options.policy);
  const skipped: string[] = [];
  // The snapshot and the policy often sit in the folder being replayed (events/): they are not events.
  const notInputs = new Set([options.account, options.policy].filter((p): p is string => p !== undefined).map((p) => resolve(p)));
  const files = (
    await listInputFiles(options.paths, (file, why) => {
      if (notInputs.has(resolve(file))) return;
      skipped.push(file);
      warn(`skipping ${file}: ${why}`);
    })
  ).filter((file) => !notInputs.has(resolve(file.path)));

  const notices: string[] = [];
  let reader: ContextReader;
  let runtime: AwsRuntime | undefined;
  if (options.execute) {
    runtime = await deps.aws({});
    reader = runtime.reader;
    notices.push(`executed against account ${runtime.target.account} in ${runtime.target.region}`);
  } else if (options.account) {
    reader = await deps.snapshotReader(options.account);
    notices.push(`dry run: context from snapshot ${options.account}; nothing was changed`);
  } else {
    reader = new UnknownContextReader();
    notices.push(`dry run: ${NO_SNAPSHOT_REASON}, so every plan that needs context is held`);
  }
  // A snapshot is the account as it stood at `capturedAt`: decide as of then, so a replay gives
  // the same decisions tomorrow (exemptions and AMI ages do not drift with the wall clock).
  const capturedAt = (reader as { snapshot?: { capturedAt?: string } }).snapshot?.capturedAt;
  const now = !options.execute && capturedAt ? new Date(capturedAt).toISOString() : io.now().toISOString();

  if (runtime && !options.yes) {
    // Count first (a pass that plans but executes nothing, through the same reader), then ask.
    let count = 0;
    // Planned as for real (dryRun false) so the count is what will run; nothing is executed here.
    await forEachEvaluation(files, policy, reader, now, false, deps, undefined, (_source, evaluation) => {
      if (hasWork(evaluation) && !evaluation.plan.dryRun) count++;
    });
    io.stderr.write(`Execute ${count} plans against account ${runtime.target.account} (${runtime.target.region})? [y/N] `);
    const answer = (await readLine(io.stdin))?.trim().toLowerCase();
    if (answer !== 'y' && answer !== 'yes') {
      io.stderr.write('\nNot executed.\n');
      return 1;
    }
  }

  const out = new BufferedWriter(io.stdout);
  const color = useColor(io.stdout, io.env);
  const width = terminalWidth(io);
  const layout = tableLayout({ width, color });
  if (!options.json) for (const line of renderHeader(layout)) await out.write(`${line}\n`);

  const format: OutputFormat = options.json ? { json: true } : { json: false, table: { width, color } };
  const render = renderer(format);
  const tally = emptyTally();
  // On a terminal the table itself shows progress; a bar redrawn between its rows would garble both.
  const progress = new Progress(io, files, options.json || io.stdout.isTTY !== true);

  // Replays one file in this thread, event by event (executing as it goes with --execute).
  const replayHere = (file: InputFile, text?: Promise<string>) =>
    replayFileHere(file, text, policy, reader, now, !options.execute, deps, progress, async (source, evaluation) => {
      progress.record();
      let outcomes: StepOutcome[] | undefined;
      if (runtime && !('rejection' in evaluation) && hasWork(evaluation) && !evaluation.plan.dryRun) {
        const { event, plan } = evaluation;
        const { account, region } = runtime.target;
        outcomes =
          event.accountId === account && event.region === region
            ? await runtime.execute(plan, event, policy)
            : plan.steps.map((s) => ({
                action: s.action,
                resource: s.resource,
                status: 'skipped' as const,
                detail: `event is for account ${event.accountId} in ${event.region}; this run acts only on ${account} in ${region}`,
              }));
      }
      countEvaluation(tally, source, evaluation);
      const text = render(source, evaluation, outcomes);
      if (text.length > 0) await out.write(text);
    });

  const replayAll = async (): Promise<void> => {
    const workers = runtime ? 0 : workerCount(options, deps, files);
    if (workers > 0 && deps.workerScript) {
      const pool = new ReplayPool({
        script: deps.workerScript,
        size: workers,
        data: { [REPLAY_WORKER_FLAG]: true, ...(options.policy ? { policy: options.policy } : {}), ...(options.account ? { account: options.account } : {}), now, format },
      });
      try {
        await replayInOrder(files, pool, replayHere, async (file, result) => {
          progress.recordsDone(result.tally.records);
          progress.bytes(file.size);
          mergeTally(tally, result.tally);
          if (result.bytes.byteLength > 0) await out.writeBytes(result.bytes);
        });
      } finally {
        await pool.close();
      }
    } else {
      // One thread: the next file is read (and gunzipped, off this thread) while this one is replayed.
      let next = files.length > 0 ? prefetchFileText(files[0]) : undefined;
      for (let i = 0; i < files.length; i++) {
        const text = next;
        next = i + 1 < files.length ? prefetchFileText(files[i + 1]) : undefined;
        await replayHere(files[i], text);
      }
    }
  };
  try {
    await replayAll();
  } catch (err) {
    // What was replayed before the failure is printed whole, so the output shows where it stopped.
    await out.flush().catch(() => undefined);
    throw err;
  } finally {
    progress.stop();
  }

  const summary: ReplaySummary = {
    files: files.length,
    skippedFiles: skipped,
    records: tally.records,
    events: tally.events,
    rejected: tally.rejected,
    byRule: tally.byRule,
    byDecision: tally.byDecision,
    failedCalls: tally.failedCalls,
    notices,
  };
  if (options.json) {
    // stdout stays pure JSON Lines; the summary goes to stderr.
    io.stderr.write(`${renderSummary(summary, { width: io.stderr.columns ?? 120, color: false }).join('\n')}\n`);
  } else {
    for (const line of renderSummary(summary, { width, color })) await out.write(`${line}\n`);
  }
  await out.flush();
  return 0;
}

/** The terminal's width; COLUMNS when stdout is not a terminal; else 120. */
function terminalWidth(io: CliIo): number {
  const fromEnv = Number.parseInt(io.env.COLUMNS ?? '', 10);
  return io.stdout.columns ?? (Number.isFinite(fromEnv) && fromEnv > 0 ? fromEnv : 120);
}

type EvaluationOf = Exclude<Evaluation, { rejection: Rejection }>;

/** Every evaluation of every file, in input order, in this thread (the count before --execute). */
async function forEachEvaluation(
  files: InputFile[],
  policy: Policy,
  reader: ContextReader,
  now: string,
  dryRun: boolean,
  deps: CliDeps,
  progress: Progress | undefined,
  visit: (source: string, evaluation: Evaluation) => void | Promise<void>,
): Promise<void> {
  for (const file of files) await replayFileHere(file, undefined, policy, reader, now, dryRun, deps, progress, visit);
}

/** One file's evaluations, in file order, in this thread. `text` is its text when already being read. */
async function replayFileHere(
  file: InputFile,
  text: Promise<string> | undefined,
  policy: Policy,
  reader: ContextReader,
  now: string,
  dryRun: boolean,
  deps: CliDeps,
  progress: Progress | undefined,
  visit: (source: string, evaluation: Evaluation) => void | Promise<void>,
): Promise<void> {
  for await (const item of readInputs(file, (bytes) => progress?.bytes(bytes), text)) {
    const evaluation: Evaluation = 'rejection' in item ? { rejection: item.rejection } : await deps.evaluate(item.value, { policy, reader, now, dryRun });
    await visit(item.source, evaluation);
  }
  progress?.fileDone(file);
}

/**
 * How many worker threads a replay uses: none for --execute, without a bundle to run
 * (`deps.workerScript`), or with a core other than the default one (a worker could not use it);
 * `options.workers` when given; else one per core (at most MAX_WORKERS) for a large input
 * of whole files, none for a small one (starting workers would cost more than they save).
 */
export function workerCount(options: Pick<ReplayOptions, 'execute' | 'workers'>, deps: CliDeps, files: InputFile[]): number {
  if (options.execute || !deps.workerScript || !usesDefaultCore(deps)) return 0;
  const whole = files.filter((f) => f.format !== 'jsonl');
  if (whole.length < 2) return 0;
  if (options.workers !== undefined) return Math.min(options.workers, whole.length);
  const bytes = whole.reduce((n, f) => n + f.size, 0);
  if (bytes < POOL_MIN_BYTES) return 0;
  return Math.max(1, Math.min(MAX_WORKERS, availableParallelism(), whole.length));
}

/**
 * Replays the files in input order with a pool: whole files (.json, .json.gz) go to the
 * workers, JSON Lines files (streamed, of any size) are replayed here, in their turn. At most
 * `window` files are dispatched and not yet written, so memory does not grow with the input;
 * results are written (`write`) strictly in input order.
 */
async function replayInOrder(
  files: InputFile[],
  pool: ReplayPool,
  replayHere: (file: InputFile) => Promise<void>,
  write: (file: InputFile, result: FileResult) => Promise<void>,
  window = pool.size * 3,
): Promise<void> {
  const dispatched = new Map<number, Promise<FileResult>>();
  let nextToDispatch = 0;
  const topUp = () => {
    while (dispatched.size < window && nextToDispatch < files.length) {
      const index = nextToDispatch++;
      if (files[index].format === 'jsonl') continue;
      const result = pool.run(index, files[index]);
      // Awaited in turn below; until then a failure must not count as unhandled.
      result.catch(() => undefined);
      dispatched.set(index, result);
    }
  };
  for (let i = 0; i < files.length; i++) {
    topUp();
    const pending = dispatched.get(i);
    if (pending === undefined) {
      await replayHere(files[i]);
      continue;
    }
    const result = await pending;
    dispatched.delete(i);
    topUp();
    await write(files[i], result);
  }
}

/**
 * The progress bar, on stderr so stdout stays clean. It starts only on a terminal, and only
 * once the input is large: more than 5 files, or more than 2,000 records.
 */
class Progress {
  private bar: SingleBar | undefined;
  private records = 0;
  private done = 0;
  private readonly total: number;
  private readonly enabled: boolean;

  constructor(
    private readonly io: CliIo,
    files: InputFile[],
    allowed: boolean,
  ) {
    this.total = files.reduce((n, f) => n + f.size, 0);
    this.enabled = allowed && io.stderr.isTTY === true && this.total > 0;
    if (this.enabled && files.length >= PROGRESS_MIN_FILES) this.start();
  }

  private start(): void {
    if (this.bar) return;
    this.bar = new SingleBar(
      {
        stream: this.io.stderr as NodeJS.WritableStream,
        format: 'replay [{bar}] {percentage}% | {records} records',
        hideCursor: true,
        clearOnComplete: true,
        etaBuffer: 50,
        fps: 5,
      },
      undefined,
    );
    this.bar.start(this.total, this.done, { records: this.records });
  }

  /** `n` records done at once (a file replayed by a worker). */
  recordsDone(n: number): void {
    for (let i = 0; i < n; i++) this.record();
  }

  record(): void {
    this.records++;
    if (!this.enabled) return;
    if (!this.bar && this.records > PROGRESS_MIN_RECORDS) this.start();
    if (this.bar && this.records % 500 === 0) this.bar.update(this.done, { records: this.records });
  }

  bytes(n: number): void {
    this.done = Math.min(this.total, this.done + n);
    this.bar?.update(this.done, { records: this.records });
  }

  fileDone(_file: InputFile): void {
    this.bar?.update(this.done, { records: this.records });
  }

  stop(): void {
    this.bar?.stop();
  }
}
