/**
 * The IAM actions of each Lambda function, derived from the code that uses them: the steps
 * (`STEP_IAM`), the state modules and the context reader each declare theirs beside their
 * code, and this file only says which function runs which of them, plus the few calls that
 * belong to no step (the alert key, member-account roles, the watcher's and sweeper's reads).
 *
 * template.yaml's `actions` policy of each role must hold exactly these actions (resource
 * scoping and conditions live in the template); test/template checks both directions, so a
 * step that gains an action fails the build until the role gains it too, and a role cannot
 * keep an action no code uses.
 */
import { STEP_ORDER, type StepAction } from '../core/decision';
import { STEP_IAM } from './iam';
import { IAM_ACTIONS as ALERT_LIMITER } from './state/alert-limiter';
import { IAM_ACTIONS as AUDIT } from './state/audit';
import { IAM_ACTIONS as BLAST_RADIUS } from './state/blast-radius';
import { IAM_ACTIONS as IDEMPOTENCY } from './state/idempotency';
import { IAM_ACTIONS as KILL_SWITCH } from './state/kill-switch';
import { IAM_ACTIONS as REPLACEMENT_LEDGER } from './state/replacements';
import { IAM_ACTIONS as DRIFT } from './drift';
import { IAM_ACTIONS as POLICY_SOURCE } from '../responder/policy-source';
import { IAM_ACTIONS as SWEEP_ACCOUNTS } from '../sweeper/accounts';

export type FunctionName = 'responder' | 'watcher' | 'sweeper' | 'hook';
export const FUNCTION_NAMES: readonly FunctionName[] = ['responder', 'watcher', 'sweeper', 'hook'];

/** Publishing to the alert topic, which is encrypted with a customer-managed key, needs the key as well. */
export const ALERT_KEY_IAM_ACTIONS = ['kms:GenerateDataKey', 'kms:Decrypt'] as const;

/** Acting in member accounts of an organization through the member role. */
export const MEMBER_ROLE_IAM_ACTIONS = ['sts:AssumeRole'] as const;

/** What every function that runs the pipeline needs around the steps: state, kill switch, alerts. */
const PIPELINE_STATE = [...IDEMPOTENCY, ...BLAST_RADIUS, ...AUDIT, ...ALERT_LIMITER, ...KILL_SWITCH, ...ALERT_KEY_IAM_ACTIONS];

/** Every step a plan can contain (release is a human's act, from the CLI, and not here). */
const PLAN_STEPS: readonly (StepAction | 'context')[] = ['context', ...STEP_ORDER];

const stepActions = (steps: readonly (StepAction | 'release' | 'context')[]): string[] => steps.flatMap((s) => [...STEP_IAM[s]]);

/**
 * The watcher follows the stack updates driftwarden started: it reads the stack and its new
 * instance, checks that the instance is in sync (drift detection), and terminates the
 * replaced one after the forensic hold.
 */
export const WATCHER_READ_IAM_ACTIONS = [
  'cloudformation:DescribeStacks',
  'cloudformation:DescribeStackResources',
  // The first failed resource's reason, for the alert of a failed replacement (functions/watcher/watch.ts).
  'cloudformation:DescribeStackEvents',
  'cloudformation:DetectStackResourceDrift',
  'cloudformation:DescribeStackResourceDrifts',
] as const;

/**
 * The sweeper lists what the events may have missed: every instance and security group
 * (paged Describe* calls), key pairs, and the drift of stack instances; in Organization mode,
 * the organization's accounts too (organizations:ListAccounts, from the home account only).
 */
export const SWEEPER_READ_IAM_ACTIONS = [
  'ec2:DescribeInstances',
  'ec2:DescribeSecurityGroups',
  'ec2:DescribeSecurityGroupRules',
  'ec2:DescribeKeyPairs',
  'cloudformation:DetectStackResourceDrift',
  'cloudformation:DescribeStackResourceDrifts',
  ...SWEEP_ACCOUNTS,
] as const;

/** The PreTraffic hook invokes the new responder version and reports its verdict to CodeDeploy (declared beside its code). */
export { IAM_ACTIONS as HOOK_IAM_ACTIONS } from '../hook/index';
import { IAM_ACTIONS as HOOK_IAM_ACTIONS } from '../hook/index';

const unique = (actions: readonly string[]): readonly string[] => Object.freeze([...new Set(actions)].sort());

export const FUNCTION_IAM: Record<FunctionName, readonly string[]> = {
  responder: unique([...stepActions(PLAN_STEPS), ...PIPELINE_STATE, ...POLICY_SOURCE, ...REPLACEMENT_LEDGER, ...DRIFT, ...MEMBER_ROLE_IAM_ACTIONS]),
  watcher: unique([
    ...stepActions(['context', 'tag', 'notify', 'terminate']),
    ...WATCHER_READ_IAM_ACTIONS,
    ...PIPELINE_STATE,
    ...MEMBER_ROLE_IAM_ACTIONS,
  ]),
  // The sweeper runs the same pipeline on what it finds, so it may take every step.
  sweeper: unique([...stepActions(PLAN_STEPS), ...SWEEPER_READ_IAM_ACTIONS, ...PIPELINE_STATE, ...MEMBER_ROLE_IAM_ACTIONS]),
  hook: unique(HOOK_IAM_ACTIONS),
};

/**
 * Every action the member-account role (infra/member-account.yaml) must allow: whatever a
 * central function, or `driftwarden release`, may do in a member account. The state table,
 * the alert topic and its key, the kill switch and the organization's account list stay in the
 * central account.
 */
export function memberRoleIamActions(): readonly string[] {
  const central = (a: string) => /^(dynamodb|kms|sts|lambda|codedeploy|organizations):/.test(a) || a === 'sns:Publish' || a === 'ssm:GetParameter';
  return unique([...FUNCTION_IAM.responder, ...FUNCTION_IAM.watcher, ...FUNCTION_IAM.sweeper, ...STEP_IAM.release].filter((a) => !central(a)));
}
