/**
 * The entry of the replay worker bundle (dist/cli/replay-worker.js): a worker thread of a
 * dry-run replay (replay-pool.ts) starts here. A bundle of its own, without the command line or
 * the AWS SDK, so each worker loads a fraction of the CLI bundle before its first file.
 */
import { isMainThread, workerData } from 'node:worker_threads';
import { isReplayWorkerData, runReplayWorker } from './replay-worker';

if (!isMainThread && isReplayWorkerData(workerData)) runReplayWorker(workerData);
