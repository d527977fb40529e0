/**
 * A pool of replay workers (replay-worker.ts) for a dry-run replay of many files: each worker
 * replays whole files on its own core and sends back what to print (UTF-8 bytes, transferred)
 * and the counts; the caller writes them in input order.
 *
 * Memory stays flat: a worker has at most `perWorker` files (the one it is replaying and the
 * next, queued: it reads each only when its turn comes), and the caller keeps at most a fixed
 * window of files dispatched but not yet written (see `replayInOrder` in replay.ts).
 */
import { Worker } from 'node:worker_threads';
import { DriftwardenError, InputError } from '../core/errors';
import type { InputFile } from './inputs';
import type { ReplayTally } from './render';
import type { FailureData, FileJob, ReplayWorkerData, WorkerReply } from './replay-worker';

export interface FileResult {
  /** What the file prints, as UTF-8. */
  bytes: Uint8Array;
  tally: ReplayTally;
}

export interface ReplayPoolOptions {
  /** The JavaScript file a worker runs: the CLI bundle (it starts as a worker from `workerData`). */
  script: string;
  /** Number of workers. */
  size: number;
  data: ReplayWorkerData;
  /** Files sent to one worker before it answers: the one it replays and the next, read ahead. Default 2. */
  perWorker?: number;
}

const WORKER_YOUNG_GENERATION_MB = 16;

interface Pending {
  resolve: (result: FileResult) => void;
  reject: (error: Error) => void;
}

interface Member {
  worker: Worker;
  /** Jobs sent and not yet answered, by index. */
  outstanding: Map<number, Pending>;
}

/** The error a worker reported, as the same kind of error the replay in one thread would throw. */
export function errorFrom(failure: FailureData): Error {
  if (failure.kind === 'InputError') return new InputError(failure.message, failure.resource ? { resource: failure.resource } : {});
  return new DriftwardenError(`replay worker failed: ${failure.message}`);
}

export class ReplayPool {
  private readonly members: Member[];
  private readonly queue: (FileJob & Pending)[] = [];
  private readonly perWorker: number;
  private failed: Error | undefined;
  private closed = false;

  constructor(options: ReplayPoolOptions) {
    this.perWorker = Math.max(1, options.perWorker ?? 2);
    this.members = Array.from({ length: Math.max(1, options.size) }, () => this.spawn(options));
  }

  get size(): number {
    return this.members.length;
  }

  /** Replays one file in a worker. Rejects with the file's error (an unreadable file is an `InputError`). */
  run(index: number, file: InputFile): Promise<FileResult> {
    if (this.failed) return Promise.reject(this.failed);
    return new Promise<FileResult>((resolve, reject) => {
      this.queue.push({ index, file, resolve, reject });
      this.pump();
    });
  }

  /** Stops every worker. Jobs still pending are rejected. */
  async close(): Promise<void> {
    this.closed = true;
    this.fail(new DriftwardenError('replay pool closed'));
    await Promise.all(this.members.map((m) => m.worker.terminate()));
  }

  private spawn(options: ReplayPoolOptions): Member {
    // The young generation is capped at 16 MB: a worker parses, evaluates and drops one record at
    // a time, so almost nothing survives a scavenge, and a larger one (64 MB, when whole parsed
    // files used to survive) only raised peak memory, by more for a long replay than a short one.
    const worker = new Worker(options.script, { workerData: options.data, resourceLimits: { maxYoungGenerationSizeMb: WORKER_YOUNG_GENERATION_MB } });
    const member: Member = { worker, outstanding: new Map() };
    worker.on('message', (reply: WorkerReply) => {
      if (reply.index === -1 && 'error' in reply) {
        this.fail(errorFrom(reply.error));
        return;
      }
      const pending = member.outstanding.get(reply.index);
      if (!pending) return;
      member.outstanding.delete(reply.index);
      if ('error' in reply) pending.reject(errorFrom(reply.error));
      else pending.resolve({ bytes: reply.bytes, tally: reply.tally });
      this.pump();
    });
    worker.on('error', (err) => this.fail(new DriftwardenError(`replay worker failed: ${err.stack ?? err.message}`, {}, { cause: err })));
    worker.on('exit', (code) => {
      if (!this.closed) this.fail(new DriftwardenError(`replay worker stopped unexpectedly (exit code ${code})`));
    });
    return member;
  }

  /** Sends queued jobs to the least busy workers, up to `perWorker` each. */
  private pump(): void {
    while (this.queue.length > 0 && !this.failed) {
      let target: Member | undefined;
      for (const m of this.members) {
        if (m.outstanding.size < this.perWorker && (!target || m.outstanding.size < target.outstanding.size)) target = m;
      }
      if (!target) return;
      const job = this.queue.shift()!;
      target.outstanding.set(job.index, { resolve: job.resolve, reject: job.reject });
      target.worker.postMessage({ index: job.index, file: job.file } satisfies FileJob);
    }
  }

  /** Rejects every pending job: after one worker fails, the replay stops (fail closed). */
  private fail(error: Error): void {
    this.failed ??= error;
    for (const job of this.queue.splice(0)) job.reject(this.failed);
    for (const m of this.members) {
      for (const pending of m.outstanding.values()) pending.reject(this.failed);
      m.outstanding.clear();
    }
  }
}
