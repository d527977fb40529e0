/**
 * The responder's settings, read from the environment variables the template sets (README:
 * "Environment variables"). Pure given the env object, so tests pass their own.
 */
import type { Policy } from '../core/policy/schema';

export interface ResponderConfig {
  /** `observe` turns every rule to observe whatever the policy says; `enforce` lets the policy's modes act. Default observe. */
  globalMode: 'observe' | 'enforce';
  /** Where the policy comes from: a `.yaml`/`.yml` file path, or an SSM parameter name. Empty: the built-in defaults. */
  policySource?: string;
  /** SSM parameter whose value `on` stops every mutating action. Empty: the policy's `killSwitchParameter` (default /driftwarden/kill-switch). */
  killSwitchParameter: string;
  topicArn?: string;
  /** Extra trusted pipeline principals (comma-separated ARN patterns), added to the policy's. */
  trustedPrincipals: string[];
  /** Approved-AMI SSM path, used when the policy names none. */
  approvedAmiPath?: string;
  maxDestructiveActions?: number;
  windowMinutes?: number;
  /** How long a loaded policy is reused before it is read again, in seconds. Default 300. */
  policyTtlSeconds: number;
}

const list = (value: string | undefined): string[] =>
  (value ?? '')
    .split(',')
    .map((s) => s.trim())
    .filter((s) => s.length > 0);

const positiveInt = (value: string | undefined): number | undefined => {
  if (value === undefined || value.trim() === '') return undefined;
  const n = Number(value);
  return Number.isInteger(n) && n >= 0 ? n : undefined;
};

export function readConfig(env: NodeJS.ProcessEnv): ResponderConfig {
  const mode = (env.DRIFTWARDEN_GLOBAL_MODE ?? 'observe').trim().toLowerCase();
  return {
    // Anything but an explicit "enforce" observes: a typo must not arm driftwarden.
    globalMode: mode === 'enforce' ? 'enforce' : 'observe',
    policySource: env.DRIFTWARDEN_POLICY?.trim() || undefined,
    killSwitchParameter: env.DRIFTWARDEN_KILL_SWITCH_PARAMETER?.trim() || '',
    topicArn: env.DRIFTWARDEN_TOPIC_ARN?.trim() || undefined,
    trustedPrincipals: list(env.DRIFTWARDEN_TRUSTED_PRINCIPALS),
    approvedAmiPath: env.DRIFTWARDEN_APPROVED_AMI_PATH?.trim() || undefined,
    maxDestructiveActions: positiveInt(env.DRIFTWARDEN_MAX_DESTRUCTIVE_ACTIONS),
    windowMinutes: positiveInt(env.DRIFTWARDEN_WINDOW_MINUTES) || undefined,
    policyTtlSeconds: positiveInt(env.DRIFTWARDEN_POLICY_TTL_SECONDS) ?? 300,
  };
}

/**
 * The deployment's parameters layered over the policy file: pipeline principals are added
 * (never removed), the approved-AMI path and the limits fill in what the policy leaves at its
 * defaults. Pure.
 */
export function applyDeploymentSettings(policy: Policy, config: ResponderConfig): Policy {
  const pipelinePrincipals = [...new Set([...policy.trust.pipelinePrincipals, ...config.trustedPrincipals])];
  return {
    ...policy,
    trust: { ...policy.trust, pipelinePrincipals },
    approvedAmis: {
      ...policy.approvedAmis,
      ...(policy.approvedAmis.ssmParameterPath === undefined && config.approvedAmiPath ? { ssmParameterPath: withTrailingSlash(config.approvedAmiPath) } : {}),
    },
    limits: {
      ...policy.limits,
      ...(config.maxDestructiveActions !== undefined ? { maxDestructiveActions: config.maxDestructiveActions } : {}),
      ...(config.windowMinutes !== undefined ? { windowMinutes: config.windowMinutes } : {}),
    },
  };
}

const withTrailingSlash = (path: string): string => (path.endsWith('/') ? path : `${path}/`);
