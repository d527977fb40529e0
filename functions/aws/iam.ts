/**
 * The IAM actions driftwarden needs, collected from the files that use them (each step and
 * the context reader declare theirs beside their code), so that the policy in infra/ is
 * generated from the code rather than written by hand far from it.
 *
 * `MUTATING_COMMANDS`: the SDK commands that change state. Tests prove that a dry run
 * sends none of them.
 */
import type { StepAction } from '../core/decision';
import { IAM_ACTIONS as CONTEXT } from './context-reader';
import { IAM_ACTIONS as DETACH } from './steps/detach';
import { IAM_ACTIONS as ISOLATE } from './steps/isolate-instance';
import { IAM_ACTIONS as NOTIFY } from './steps/notify';
import { IAM_ACTIONS as RELEASE } from './steps/release';
import { IAM_ACTIONS as REPLACE } from './steps/replace';
import { IAM_ACTIONS as RESTORE_LOGGING } from './steps/restore-logging';
import { IAM_ACTIONS as REVERT_TAGS } from './steps/revert-tags';
import { IAM_ACTIONS as REVOKE } from './steps/revoke-rule';
import { IAM_ACTIONS as SNAPSHOT } from './steps/snapshot-volumes';
import { IAM_ACTIONS as TAG } from './steps/tag';
import { IAM_ACTIONS as TERMINATE } from './steps/terminate';

export const STEP_IAM: Record<StepAction | 'release' | 'context', readonly string[]> = {
  'revoke-rule': REVOKE,
  'revert-tags': REVERT_TAGS,
  'restore-logging': RESTORE_LOGGING,
  'isolate-instance': ISOLATE,
  'snapshot-volumes': SNAPSHOT,
  tag: TAG,
  detach: DETACH,
  notify: NOTIFY,
  replace: REPLACE,
  terminate: TERMINATE,
  release: RELEASE,
  context: CONTEXT,
};

/** Every action, once, sorted: what a role that runs every step needs. */
export function allIamActions(): string[] {
  return [...new Set(Object.values(STEP_IAM).flat())].sort();
}

/** SDK command class names that change state. */
export const MUTATING_COMMANDS = [
  // EC2
  'RevokeSecurityGroupIngressCommand',
  'RevokeSecurityGroupEgressCommand',
  'AuthorizeSecurityGroupIngressCommand',
  'AuthorizeSecurityGroupEgressCommand',
  'CreateSecurityGroupCommand',
  'ModifyNetworkInterfaceAttributeCommand',
  'ModifyInstanceAttributeCommand',
  'CreateTagsCommand',
  'DeleteTagsCommand',
  'CreateSnapshotCommand',
  'TerminateInstancesCommand',
  // CloudTrail, AWS Config (restarting what tampering stopped)
  'StartLoggingCommand',
  'StartConfigurationRecorderCommand',
  // Auto Scaling, ELBv2
  'DetachInstancesCommand',
  'DeregisterTargetsCommand',
  // CloudFormation
  'UpdateStackCommand',
  // SNS (publishing is not a change to resources, but a dry run must not send it either)
  'PublishCommand',
] as const;
