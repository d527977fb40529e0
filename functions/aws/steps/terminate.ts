/**
 * Step `terminate`: end the tainted instance.
 *
 * `after-replacement` is deferred: the replacement watcher terminates once the replacement
 * is in service and the forensic hold has passed (it calls `terminateInstance`).
 * `now`: termination protection is lifted only when driftwarden set it (tag
 * `driftwarden:protection-set=true`) or the policy forces it; protection that someone else
 * set is respected and the step fails saying so. An instance already gone is already done.
 */
import { DescribeInstanceAttributeCommand, ModifyInstanceAttributeCommand, TerminateInstancesCommand } from '@aws-sdk/client-ec2';
import type { StepAction, StepOutcome, TerminateStep } from '../../core/decision';
import { hasErrorName } from '../aws-errors';
import type { AwsClients } from '../clients';
import { tagsToRecord } from '../context-reader';
import { TAG, describeInstance } from '../instances';
import type { StepContext } from './context';
import { failedOutcome, guarded, outcome } from './outcome';

export const IAM_ACTIONS = ['ec2:DescribeInstances', 'ec2:DescribeInstanceAttribute', 'ec2:ModifyInstanceAttribute', 'ec2:TerminateInstances'] as const;

export interface TerminateOptions {
  /** Lift termination protection even when someone other than driftwarden set it. */
  force: boolean;
  /** The action to report the outcome under. Default 'terminate'. */
  action?: StepAction;
}

/** Terminates one instance, respecting protection that driftwarden did not set. Never throws. */
export function terminateInstance(instanceId: string, deps: { clients: Pick<AwsClients, 'ec2'> }, opts: TerminateOptions): Promise<StepOutcome> {
  const step = { action: opts.action ?? ('terminate' as const), resource: instanceId };
  return guarded(step, async () => {
    const ec2 = deps.clients.ec2;
    const instance = await describeInstance(ec2, instanceId);
    const state = instance?.State?.Name;
    if (!instance || state === 'terminated' || state === 'shutting-down') {
      return outcome(step, 'already-done', `instance ${instanceId} is already ${state ?? 'gone'}`);
    }
    const protection = await ec2.send(new DescribeInstanceAttributeCommand({ InstanceId: instanceId, Attribute: 'disableApiTermination' }));
    if (protection.DisableApiTermination?.Value === true) {
      const setByDriftwarden = tagsToRecord(instance.Tags)[TAG.protectionSet] === 'true';
      if (!setByDriftwarden && !opts.force) {
        return {
          ...outcome(step, 'failed', `termination protection set by someone else on ${instanceId}: not lifted (set forensicHold.force to lift it)`),
          errorName: 'TerminationProtected',
        };
      }
      await ec2.send(new ModifyInstanceAttributeCommand({ InstanceId: instanceId, DisableApiTermination: { Value: false } }));
    }
    try {
      await ec2.send(new TerminateInstancesCommand({ InstanceIds: [instanceId] }));
    } catch (err) {
      if (hasErrorName(err, 'InvalidInstanceID.NotFound')) return outcome(step, 'already-done', `instance ${instanceId} is already gone`);
      return failedOutcome(step, err, `could not terminate ${instanceId}`);
    }
    return outcome(step, 'done', `terminated ${instanceId}`);
  });
}

export function run(step: TerminateStep, ctx: StepContext): Promise<StepOutcome> {
  if (step.when === 'after-replacement') {
    return Promise.resolve(
      outcome(step, 'deferred', `terminated by the watcher once the replacement is in service and the ${step.holdSeconds}s forensic hold has passed`, {
        holdSeconds: step.holdSeconds,
      }),
    );
  }
  return terminateInstance(step.resource, ctx, { force: step.force });
}
