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
}

export interface CliDeps {
  evaluate(input: unknown, deps: EvaluateDeps): Promise<Evaluation>;
  /** The policy file, or the default policy when no path is given. Throws PolicyError / InputError. */
  loadPolicy(path: string | undefined): Promise<Policy>;
  /** A reader over an account snapshot file. Throws InputError when the file is missing or invalid. */
  snapshotReader(path: string): Promise<ContextReader>;
  /** Clients for the account and region the environment names. */
  aws(options: { region?: string }): Promise<AwsRuntime>;
}

export function defaultDeps(): CliDeps {
  let pipeline: typeof import('../core/pipeline') | undefined;
  return {
    evaluate: async (input, deps) => {
      pipeline ??= await import('../core/pipeline');
      return pipeline.evaluateInput(input, deps);
    },
    loadPolicy: async (path) => {
      if (path === undefined) return (await import('../core/policy/schema')).defaultPolicy();
      return (await import('../core/policy/load')).loadPolicyFile(path);
    },
    snapshotReader: async (path) => {
      const snapshot = await import('../core/snapshot');
      return new snapshot.SnapshotContextReader(await snapshot.loadSnapshotFile(path));
    },
    aws: async (options) => (await import('./aws-runtime')).awsRuntime(options),
  };
}
