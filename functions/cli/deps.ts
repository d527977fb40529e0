/**
 * What the CLI needs from the rest of driftwarden, behind one interface so that tests can
 * replace the AWS side. The default implementation loads the AWS SDK only for the commands
 * that call AWS (`replay --execute`, `release`), so a dry-run replay starts fast.
 */
import type { ContextReader } from '../core/context';
import type { Plan, StepOutcome } from '../core/decision';
import type { ChangeEvent } from '../core/model';
import type { Evaluation, EvaluateDeps } from '../core/pipeline';
import type { Policy } from '../core/policy/schema';
import { defaultLoadPolicy, defaultSnapshotReader } from './local-loaders';

/** The account the environment points at (AWS_PROFILE, AWS_REGION, AWS_ENDPOINT_URL …). */
export interface AwsTarget {
  account: string;
  region: string;
  /** The caller's ARN, for the audit line. */
  callerArn?: string;
}

export interface AwsRuntime {
  target: AwsTarget;
  reader: ContextReader;
  execute(plan: Plan, event: ChangeEvent, policy: Policy): Promise<StepOutcome[]>;
  release(instanceId: string): Promise<StepOutcome[]>;
  /**
   * Records the release in the deployment's audit trail (DRIFTWARDEN_STATE_TABLE), like any other
   * action. Resolves to where it was recorded; rejects when it could not be written.
   * Absent when no audit table is named.
   */
  recordRelease?(entry: { instanceId: string; time: string; outcomes: StepOutcome[]; released: boolean; actor?: string }): Promise<string>;
}

export interface CliDeps {
  evaluate(input: unknown, deps: EvaluateDeps): Promise<Evaluation>;
  /** The policy file, or the default policy when no path is given. Throws PolicyError / InputError. */
  loadPolicy(path: string | undefined): Promise<Policy>;
  /** A reader over an account snapshot file. Throws InputError when the file is missing or invalid. */
  snapshotReader(path: string): Promise<ContextReader>;
  /** Clients for the account and region the environment names. */
  aws(options: { region?: string }): Promise<AwsRuntime>;
  /**
   * The JavaScript file a replay worker thread runs (dist/cli/replay-worker.js), for a dry-run
   * replay on several cores. `run` sets it when it runs from the bundle; unset (the default,
   * and always under ts-jest or tsx, where there is no bundle to start) replay runs in one thread. Workers load the policy and
   * the snapshot with the default loaders and evaluate with the default pipeline, so they are
   * used only while `evaluate`, `loadPolicy` and `snapshotReader` are the defaults
   * (`usesDefaultCore`): overriding any of them keeps the replay in this thread.
   */
  workerScript?: string;
}

let pipelineModule: typeof import('../core/pipeline') | undefined;

const defaultEvaluate: CliDeps['evaluate'] = async (input, deps) => {
  pipelineModule ??= await import('../core/pipeline');
  return pipelineModule.evaluateInput(input, deps);
};

/** True when the deps evaluate, load policies and read snapshots the way a replay worker does. */
export function usesDefaultCore(deps: CliDeps): boolean {
  return deps.evaluate === defaultEvaluate && deps.loadPolicy === defaultLoadPolicy && deps.snapshotReader === defaultSnapshotReader;
}

export function defaultDeps(): CliDeps {
  return {
    evaluate: defaultEvaluate,
    loadPolicy: defaultLoadPolicy,
    snapshotReader: defaultSnapshotReader,
    aws: async (options) => (await import('./aws-runtime')).awsRuntime(options),
  };
}
