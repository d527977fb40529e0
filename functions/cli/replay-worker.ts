/**
 * A replay worker: a worker thread that replays whole input files (read, parse, normalize,
 * evaluate, render) and sends back, for each, the text to print and the summary counts. The
 * main thread (replay-pool.ts) writes the texts in input order.
 *
 * The worker runs the CLI bundle itself (main.ts starts it when `workerData` carries
 * `REPLAY_WORKER_FLAG`), so no second bundle is built. It loads the policy and the account
 * snapshot from their paths with the same loaders as the main thread, and decides as of the
 * same `now`; it is only used for dry runs, so it never changes anything.
 */
import { parentPort } from 'node:worker_threads';
import type { MessagePort } from 'node:worker_threads';
import type { ContextReader } from '../core/context';
import { DriftwardenError, InputError } from '../core/errors';
import { evaluateInput, evaluateInputNow } from '../core/pipeline';
import type { Evaluation } from '../core/pipeline';
import type { Policy } from '../core/policy/schema';
import { defaultDeps } from './deps';
import { inputsOfText, prefetchFileText, readFileText, readInputs } from './inputs';
import type { InputFile } from './inputs';
import { countEvaluation, emptyTally, renderer } from './render';
import type { OutputFormat, ReplayTally } from './render';
import { UnknownContextReader } from './unknown-reader';

/** The key in `workerData` that makes the bundle start as a replay worker. */
export const REPLAY_WORKER_FLAG = 'driftwardenReplayWorker';

/** What a replay worker is started with (plain data: it crosses threads). */
export interface ReplayWorkerData {
  [REPLAY_WORKER_FLAG]: true;
  /** Policy file; the default policy when absent. */
  policy?: string;
  /** Account snapshot file; without it every lookup is unknown, as in the main thread. */
  account?: string;
  /** ISO-8601 time the decisions are made at (the main thread's `now`). */
  now: string;
  format: OutputFormat;
}

/** Main thread → worker: replay one file. */
export interface FileJob {
  index: number;
  file: InputFile;
}

/** Worker → main thread. */
export type WorkerReply =
  | { index: number; text: string; tally: ReplayTally }
  | { index: number; error: FailureData }
  /** The worker could not start (policy or snapshot unreadable): no job can run. */
  | { index: -1; error: FailureData };

export interface FailureData {
  message: string;
  /** `InputError` for an unreadable input, else the error's name. */
  kind: string;
  resource?: string;
}

export function isReplayWorkerData(data: unknown): data is ReplayWorkerData {
  return typeof data === 'object' && data !== null && (data as Record<string, unknown>)[REPLAY_WORKER_FLAG] === true;
}

/**
 * What one file prints and counts, in a dry run: the same text and counts as the replay in
 * the main thread gives for it (`evaluateInputNow` is `evaluateInput` without a promise for
 * events that need no context). `text` is the file's text when already being read.
 */
export async function replayFile(
  file: InputFile,
  setup: { policy: Policy; reader: ContextReader; now: string; render: ReturnType<typeof renderer> },
  text?: Promise<string>,
): Promise<{ text: string; tally: ReplayTally }> {
  const tally = emptyTally();
  const parts: string[] = [];
  const deps = { policy: setup.policy, reader: setup.reader, now: setup.now, dryRun: true };
  const visit = (source: string, evaluation: Evaluation) => {
    countEvaluation(tally, source, evaluation);
    const out = setup.render(source, evaluation);
    if (out.length > 0) parts.push(out);
  };
  if (file.format === 'jsonl') {
    for await (const item of readInputs(file)) visit(item.source, 'rejection' in item ? { rejection: item.rejection } : await evaluateInput(item.value, deps));
  } else {
    for (const item of inputsOfText(file, await (text ?? readFileText(file)))) {
      if ('rejection' in item) {
        visit(item.source, { rejection: item.rejection });
        continue;
      }
      const evaluation = evaluateInputNow(item.value, deps);
      visit(item.source, evaluation instanceof Promise ? await evaluation : evaluation);
    }
  }
  return { text: parts.join(''), tally };
}

function failure(err: unknown): FailureData {
  if (err instanceof InputError) return { message: err.message, kind: 'InputError', ...(err.context.resource ? { resource: err.context.resource } : {}) };
  if (err instanceof DriftwardenError) return { message: err.message, kind: err.name };
  if (err instanceof Error) return { message: err.stack ?? err.message, kind: err.name };
  return { message: String(err), kind: 'Error' };
}

/**
 * Runs the worker: loads the policy and reader, then replays each file it is sent, in the
 * order sent. A file's text is read (and gunzipped) as soon as its job arrives, so the next
 * file is ready when the current one is done.
 */
export function runReplayWorker(data: ReplayWorkerData, port: MessagePort | null = parentPort): void {
  if (!port) return;
  const deps = defaultDeps();
  const ready = (async () => {
    const policy = await deps.loadPolicy(data.policy);
    const reader = data.account ? await deps.snapshotReader(data.account) : new UnknownContextReader();
    return { policy, reader, now: data.now, render: renderer(data.format) };
  })();
  ready.catch((err: unknown) => port.postMessage({ index: -1, error: failure(err) } satisfies WorkerReply));

  let queue: Promise<void> = Promise.resolve();
  port.on('message', (job: FileJob) => {
    const text = prefetchFileText(job.file);
    queue = queue.then(async () => {
      let reply: WorkerReply;
      try {
        reply = { index: job.index, ...(await replayFile(job.file, await ready, text)) };
      } catch (err) {
        reply = { index: job.index, error: failure(err) };
      }
      port.postMessage(reply);
    });
  });
}
