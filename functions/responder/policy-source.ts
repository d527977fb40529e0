/**
 * Where the running responder gets its policy: a YAML file bundled with it (a path ending in
 * .yaml/.yml) or an SSM parameter (any other value), read once and reused for a few minutes so
 * an edit takes effect without a deployment.
 *
 * Fail closed: a policy that cannot be read or is invalid on the first load is an error (the
 * invocation fails and lands in the on-failure destination with its context); driftwarden
 * never acts under a policy it could not read. On a later reload the last good policy is kept,
 * and the failure is logged.
 */
import { GetParameterCommand, type SSMClient } from '@aws-sdk/client-ssm';
import { DriftwardenError, PolicyError } from '../core/errors';
import { loadPolicyFile, parsePolicy } from '../core/policy/load';
import { defaultPolicy, type Policy } from '../core/policy/schema';

export const IAM_ACTIONS = ['ssm:GetParameter'] as const;

export class PolicyUnavailableError extends DriftwardenError {}

export interface PolicySourceOptions {
  /** File path or SSM parameter name; undefined: the built-in defaults. */
  source?: string;
  ssm: () => SSMClient;
  /** Seconds a loaded policy is reused. */
  ttlSeconds: number;
  now?: () => number;
  onReloadFailure?: (error: unknown) => void;
}

export const isFileSource = (source: string): boolean => /\.ya?ml$/i.test(source);

export class PolicySource {
  private cached?: { policy: Policy; loadedAt: number };
  private inflight?: Promise<Policy>;
  private readonly now: () => number;

  constructor(private readonly options: PolicySourceOptions) {
    this.now = options.now ?? Date.now;
  }

  async get(): Promise<Policy> {
    const cached = this.cached;
    if (cached && this.now() - cached.loadedAt < this.options.ttlSeconds * 1000) return cached.policy;
    this.inflight ??= this.load().finally(() => {
      this.inflight = undefined;
    });
    try {
      return await this.inflight;
    } catch (error) {
      if (!cached) throw error;
      this.options.onReloadFailure?.(error);
      this.cached = { policy: cached.policy, loadedAt: this.now() };
      return cached.policy;
    }
  }

  private async load(): Promise<Policy> {
    const source = this.options.source;
    let policy: Policy;
    if (!source) policy = defaultPolicy();
    else if (isFileSource(source)) policy = loadPolicyFile(source);
    else policy = parsePolicy(await this.readParameter(source), `ssm:${source}`);
    this.cached = { policy, loadedAt: this.now() };
    return policy;
  }

  private async readParameter(name: string): Promise<string> {
    try {
      const res = await this.options.ssm().send(new GetParameterCommand({ Name: name, WithDecryption: true }));
      const value = res.Parameter?.Value;
      if (value === undefined) throw new PolicyUnavailableError(`policy parameter ${name} has no value`, { resource: name });
      return value;
    } catch (error) {
      if (error instanceof DriftwardenError || error instanceof PolicyError) throw error;
      throw new PolicyUnavailableError(`cannot read the policy parameter ${name}: ${(error as Error).message ?? String(error)}; not acting`, { resource: name }, { cause: error });
    }
  }
}
