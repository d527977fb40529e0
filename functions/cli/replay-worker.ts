/**
 * A replay worker: a worker thread that replays whole input files (read, parse, normalize,
 * evaluate, render) and sends back, for each, what to print (UTF-8 bytes, in a buffer handed
 * over without a copy) and the summary counts. The main thread (replay-pool.ts) writes them in
 * input order. A log file is parsed record by record (`replayElements`): each record is parsed,
 * evaluated, rendered and dropped before the next, so no whole parsed file sits in memory.
 *
 * The worker runs its own bundle (dist/cli/replay-worker.js, from worker-main.ts, which starts
 * it when `workerData` carries `REPLAY_WORKER_FLAG`). It loads the policy and the account
 * snapshot from their paths with the same loaders as the main thread (local-loaders.ts), and
 * decides as of the same `now`; it is only used for dry runs, so it never changes anything.
 */
import { parentPort } from 'node:worker_threads';
import type { MessagePort } from 'node:worker_threads';
import type { ContextReader } from '../core/context';
import { DriftwardenError, InputError } from '../core/errors';
import { evaluateInput, evaluateInputNow } from '../core/pipeline';
import type { EvaluateDeps, Evaluation } from '../core/pipeline';
import { arrayElementSpans, DEFAULT_MAX_DEPTH } from '../core/normalize/guards';
import type { Policy } from '../core/policy/schema';
import { defaultLoadPolicy, defaultSnapshotReader } from './local-loaders';
import { inputsOfText, readFileText, readFileTextSync, readInputs } from './inputs';
import type { InputFile } from './inputs';
import { countEvaluation, emptyTally, renderer } from './render';
import type { OutputFormat, ReplayTally } from './render';
import { UnknownContextReader } from './unknown-reader';
import { Utf8Output } from './utf8-output';

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
  /** `bytes`: the UTF-8 the file prints (its buffer is transferred, not copied). */
  | { index: number; bytes: Uint8Array; tally: ReplayTally }
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
 * What one file prints (as UTF-8) and counts, in a dry run: the same bytes and counts as the
 * replay in the main thread gives for it (`evaluateInputNow` is `evaluateInput` without a promise for
 * events that need no context). `text` is the file's text when already being read.
 */
export async function replayFile(
  file: InputFile,
  setup: { policy: Policy; reader: ContextReader; now: string; render: ReturnType<typeof renderer> },
  text?: Promise<string>,
): Promise<{ bytes: Uint8Array; tally: ReplayTally }> {
  const deps = { policy: setup.policy, reader: setup.reader, now: setup.now, dryRun: true };
  if (file.format === 'jsonl') {
    const out = output(setup.render);
    for await (const item of readInputs(file)) out.visit(item.source, 'rejection' in item ? { rejection: item.rejection } : await evaluateInput(item.value, deps));
    return out.result();
  }
  const content = await (text ?? readFileText(file));
  return (await replayElements(file, content, deps, setup.render)) ?? replayWholeText(file, content, deps, setup.render);
}

/** Collects what a file prints and counts. */
function output(render: ReturnType<typeof renderer>, expectedBytes?: number) {
  const tally = emptyTally();
  const bytes = new Utf8Output(expectedBytes);
  return {
    visit(source: string, evaluation: Evaluation): void {
      countEvaluation(tally, source, evaluation);
      const out = render(source, evaluation);
      if (out.length > 0) bytes.append(out);
    },
    result: () => ({ bytes: bytes.take(), tally }),
  };
}

/**
 * A log file (or array) replayed element by element: each record is parsed from its own span
 * of the text, evaluated and dropped before the next is parsed, so the young generation never
 * holds a whole parsed file (the garbage collector then copies almost nothing). Undefined,
 * with nothing of it kept, when the text is not plainly an array of inputs or one element is
 * not JSON: the caller then replays the whole text as `inputsOfText` reads it, which gives the
 * file's exact rejection.
 */
async function replayElements(file: InputFile, content: string, deps: EvaluateDeps, render: ReturnType<typeof renderer>): Promise<{ bytes: Uint8Array; tally: ReplayTally } | undefined> {
  const spans = arrayElementSpans(content, DEFAULT_MAX_DEPTH);
  if (spans === undefined) return undefined;
  const out = output(render, content.length >> 1);
  for (let k = 0; k < spans.length; k += 2) {
    let value: unknown;
    try {
      value = JSON.parse(content.slice(spans[k], spans[k + 1]));
    } catch {
      return undefined;
    }
    const evaluation = evaluateInputNow(value, deps);
    out.visit(`${file.path}#${k >> 1}`, evaluation instanceof Promise ? await evaluation : evaluation);
  }
  return out.result();
}

/** The whole text parsed at once, as the replay in the main thread reads it. */
async function replayWholeText(file: InputFile, content: string, deps: EvaluateDeps, render: ReturnType<typeof renderer>): Promise<{ bytes: Uint8Array; tally: ReplayTally }> {
  const out = output(render);
  for (const item of inputsOfText(file, content)) {
    if ('rejection' in item) {
      out.visit(item.source, { rejection: item.rejection });
      continue;
    }
    const evaluation = evaluateInputNow(item.value, deps);
    out.visit(item.source, evaluation instanceof Promise ? await evaluation : evaluation);
  }
  return out.result();
}

function failure(err: unknown): FailureData {
  if (err instanceof InputError) return { message: err.message, kind: 'InputError', ...(err.context.resource ? { resource: err.context.resource } : {}) };
  if (err instanceof DriftwardenError) return { message: err.message, kind: err.name };
  if (err instanceof Error) return { message: err.stack ?? err.message, kind: err.name };
  return { message: String(err), kind: 'Error' };
}

/**
 * Runs the worker: loads the policy and reader, then replays each file it is sent, in the
 * order sent, reading each when its turn comes.
 */
export function runReplayWorker(data: ReplayWorkerData, port: MessagePort | null = parentPort): void {
  if (!port) return;
  const ready = (async () => {
    const policy = await defaultLoadPolicy(data.policy);
    const reader = data.account ? await defaultSnapshotReader(data.account) : new UnknownContextReader();
    return { policy, reader, now: data.now, render: renderer(data.format) };
  })();
  ready.catch((err: unknown) => port.postMessage({ index: -1, error: failure(err) } satisfies WorkerReply));

  let queue: Promise<void> = Promise.resolve();
  port.on('message', (job: FileJob) => {
    queue = queue.then(async () => {
      let reply: WorkerReply;
      try {
        const setup = await ready;
        // Read in turn, on this thread (readFileTextSync says why); JSON Lines are streamed.
        const text = job.file.format === 'jsonl' ? undefined : Promise.resolve(readFileTextSync(job.file));
        reply = { index: job.index, ...(await replayFile(job.file, setup, text)) };
      } catch (err) {
        reply = { index: job.index, error: failure(err) };
      }
      port.postMessage(reply, 'bytes' in reply && reply.bytes.byteLength > 0 ? [reply.bytes.buffer as ArrayBuffer] : []);
    });
  });
}
