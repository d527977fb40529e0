/**
 * The policy and snapshot loaders of a dry run, in a module of their own: the replay worker
 * bundle (dist/cli/replay-worker.js) uses them and nothing else of deps.ts, so it carries no
 * AWS SDK (which only `replay --execute` and `release` load) and a worker starts fast.
 */
import type { ContextReader } from '../core/context';
import type { Policy } from '../core/policy/schema';

/** The policy file, or the default policy when no path is given. Throws PolicyError / InputError. */
export const defaultLoadPolicy = async (path: string | undefined): Promise<Policy> => {
  if (path === undefined) return (await import('../core/policy/schema')).defaultPolicy();
  return (await import('../core/policy/load')).loadPolicyFile(path);
};

/** A reader over an account snapshot file. Throws InputError when the file is missing or invalid. */
export const defaultSnapshotReader = async (path: string): Promise<ContextReader> => {
  const snapshot = await import('../core/snapshot');
  return new snapshot.SnapshotContextReader(await snapshot.loadSnapshotFile(path));
};
