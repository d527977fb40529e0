/**
 * Step `replace`: get a fresh instance from the source of truth.
 *
 * via `auto-scaling-group`: the detach step (ShouldDecrementDesiredCapacity false) already
 * made the group launch a fresh instance from its launch template; this step only checks
 * that the detach went through.
 *
 * via `stack`: a stack update does not revert drift by itself, so the stack must offer a
 * way to force a new instance. THE REPLACEMENT PARAMETER CONTRACT (infra/ follows it):
 *
 *   1. The stack declares a String parameter named `DriftwardenReplacementToken`
 *      (Default: "initial").
 *   2. The instance is launched from a launch template of the same stack and names its
 *      version as `LaunchTemplate: { LaunchTemplateId: !Ref LaunchTemplate,
 *      Version: !GetAtt LaunchTemplate.LatestVersionNumber }`.
 *   3. The token feeds the launch template's data, as a tag of the instance:
 *      `LaunchTemplateData.TagSpecifications: [{ ResourceType: instance, Tags: [{ Key:
 *      driftwarden:replacement-token, Value: !Ref DriftwardenReplacementToken }] }]`.
 *
 *   A new token changes the launch template data, so CloudFormation creates a new launch
 *   template version; the instance's `LaunchTemplate` property then changes, and for
 *   AWS::EC2::Instance a change of `LaunchTemplate` requires replacement (unlike `UserData`
 *   or `Tags`, which update in place). The new instance carries the token as a tag, which
 *   is how the watcher recognises it. The instance should also declare
 *   `UpdateReplacePolicy: Retain` (so CloudFormation leaves the tainted instance for the
 *   forensic hold; driftwarden terminates it afterwards) and a CreationPolicy with a
 *   signal (so UPDATE_COMPLETE means "in service").
 *
 * The update reuses the template and every other parameter's previous value, keeps the
 * stack's capabilities, acts through the stack's service role when it has one, and carries
 * the plan's ClientRequestToken so the watcher recognises its own update. The token is
 * derived from the finding id, so a retry sends the same update: CloudFormation answers
 * "No updates are to be performed", which is already done.
 */
import { createHash } from 'node:crypto';
import { DescribeStacksCommand, UpdateStackCommand, type Parameter, type Stack } from '@aws-sdk/client-cloudformation';
import type { ReplaceStep, StepOutcome } from '../../core/decision';
import { awsErrorMessage, hasErrorName } from '../aws-errors';
import type { StepContext } from './context';
import { failedOutcome, guarded, outcome } from './outcome';

export const IAM_ACTIONS = ['cloudformation:DescribeStacks', 'cloudformation:UpdateStack', 'iam:PassRole'] as const;

export const REPLACEMENT_PARAMETER = 'DriftwardenReplacementToken';

/** The replacement token for a finding: deterministic, short, safe in a tag value. */
export function replacementToken(findingId: string): string {
  return `dw-${createHash('sha256').update(findingId).digest('hex').slice(0, 24)}`;
}

/** A ClientRequestToken CloudFormation accepts ([a-zA-Z][-a-zA-Z0-9]*, at most 128). */
export function stackClientRequestToken(step: ReplaceStep): string {
  if (step.clientRequestToken && /^[a-zA-Z][-a-zA-Z0-9]{0,127}$/.test(step.clientRequestToken)) return step.clientRequestToken;
  return `driftwarden-${createHash('sha256').update(step.findingId).digest('hex').slice(0, 32)}`;
}

async function describeStack(stackName: string, ctx: StepContext): Promise<Stack | undefined> {
  try {
    const res = await ctx.clients.cloudFormation.send(new DescribeStacksCommand({ StackName: stackName }));
    return res.Stacks?.[0];
  } catch (err) {
    if (hasErrorName(err, 'ValidationError') && /does not exist/i.test(awsErrorMessage(err))) return undefined;
    throw err;
  }
}

/** States from which UpdateStack is refused for good (a human must act). */
const NOT_UPDATABLE = /^(CREATE_FAILED|ROLLBACK_COMPLETE|ROLLBACK_FAILED|DELETE_FAILED|DELETE_COMPLETE|UPDATE_ROLLBACK_FAILED|IMPORT_ROLLBACK_FAILED)$/;

async function replaceViaStack(step: ReplaceStep, ctx: StepContext): Promise<StepOutcome> {
  const stackName = step.stackName;
  if (!stackName) return { ...outcome(step, 'failed', `cannot replace ${step.resource}: the plan names no stack`), errorName: 'NoStack' };
  let stack: Stack | undefined;
  try {
    stack = await describeStack(stackName, ctx);
  } catch (err) {
    return failedOutcome(step, err, `cannot replace ${step.resource}: could not describe stack ${stackName}`);
  }
  if (!stack) return { ...outcome(step, 'failed', `cannot replace ${step.resource}: stack ${stackName} not found`), errorName: 'StackNotFound' };
  const status = stack.StackStatus ?? '';
  if (status.endsWith('_IN_PROGRESS')) {
    return outcome(step, 'deferred', `stack busy: retry later (${stackName} is ${status})`, { stackId: stack.StackId, stackStatus: status });
  }
  if (NOT_UPDATABLE.test(status)) {
    return { ...outcome(step, 'failed', `cannot replace ${step.resource}: stack ${stackName} is ${status} and cannot be updated`), errorName: 'StackNotUpdatable' };
  }
  const parameters = stack.Parameters ?? [];
  if (!parameters.some((p) => p.ParameterKey === REPLACEMENT_PARAMETER)) {
    return {
      ...outcome(step, 'failed', `stack does not follow the replacement contract: ${stackName} has no ${REPLACEMENT_PARAMETER} parameter`),
      errorName: 'NoReplacementParameter',
    };
  }
  const token = replacementToken(step.findingId);
  const clientRequestToken = stackClientRequestToken(step);
  const update: Parameter[] = parameters.map((p) =>
    p.ParameterKey === REPLACEMENT_PARAMETER ? { ParameterKey: p.ParameterKey, ParameterValue: token } : { ParameterKey: p.ParameterKey, UsePreviousValue: true },
  );
  const produced = { stackName, stackId: stack.StackId, replacementToken: token, clientRequestToken };
  try {
    const res = await ctx.clients.cloudFormation.send(
      new UpdateStackCommand({
        StackName: stack.StackId ?? stackName,
        UsePreviousTemplate: true,
        Parameters: update,
        ...(stack.Capabilities && stack.Capabilities.length > 0 ? { Capabilities: stack.Capabilities } : {}),
        ...(stack.RoleARN ? { RoleARN: stack.RoleARN } : {}),
        ClientRequestToken: clientRequestToken,
      }),
    );
    return outcome(step, 'done', `stack ${stackName} updating with a new ${REPLACEMENT_PARAMETER}: CloudFormation replaces ${step.resource}`, {
      ...produced,
      stackId: res.StackId ?? stack.StackId,
    });
  } catch (err) {
    if (hasErrorName(err, 'ValidationError') && /no updates are to be performed/i.test(awsErrorMessage(err))) {
      return outcome(step, 'already-done', `No updates are to be performed on ${stackName}: the replacement token is already ${token}`, produced);
    }
    if (hasErrorName(err, 'ValidationError') && /does not exist/i.test(awsErrorMessage(err))) {
      return { ...outcome(step, 'failed', `cannot replace ${step.resource}: stack ${stackName} not found`), errorName: 'StackNotFound' };
    }
    return failedOutcome(step, err, `could not update stack ${stackName}`, produced);
  }
}

export function run(step: ReplaceStep, ctx: StepContext): Promise<StepOutcome> {
  return guarded(step, async () => {
    if (step.via === 'stack') return replaceViaStack(step, ctx);
    const detach = ctx.outcomes.find((o) => o.action === 'detach' && o.resource === step.resource);
    if (detach && detach.status === 'failed') {
      return { ...outcome(step, 'failed', `not replaced: detaching ${step.resource} from its Auto Scaling group failed (${detach.detail})`), errorName: detach.errorName ?? 'DetachFailed' };
    }
    if (detach && detach.status === 'skipped') {
      return outcome(step, 'skipped', `not replaced: ${step.resource} was not detached from its Auto Scaling group`);
    }
    return outcome(step, 'done', `replaced by its Auto Scaling group${step.autoScalingGroup ? ` ${step.autoScalingGroup}` : ''}`, {
      ...(step.autoScalingGroup ? { autoScalingGroup: step.autoScalingGroup } : {}),
    });
  });
}
