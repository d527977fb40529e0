/**
 * Step `detach`: take the instance out of service.
 *
 * - From its Auto Scaling group, with ShouldDecrementDesiredCapacity false: the group then
 *   launches a fresh instance from its launch template (that is the replacement of an
 *   Auto Scaling member). An instance no longer in the group is already detached.
 * - From its load balancers' target groups (DeregisterTargets). The plan names them when
 *   the context did; otherwise they are found here, bounded: the target groups of the
 *   account are listed (paginated, at most MAX_TARGET_GROUPS) and each is asked, a few at a
 *   time, whether it lists this instance.
 */
import { DescribeAutoScalingInstancesCommand, DetachInstancesCommand } from '@aws-sdk/client-auto-scaling';
import {
  DeregisterTargetsCommand,
  DescribeTargetHealthCommand,
  paginateDescribeTargetGroups,
  type TargetDescription,
} from '@aws-sdk/client-elastic-load-balancing-v2';
import type { DetachStep, StepOutcome } from '../../core/decision';
import { hasErrorName } from '../aws-errors';
import { loadLaterClients } from '../clients';
import type { StepContext } from './context';
import { combine, failedOutcome, guarded, outcome } from './outcome';

export const IAM_ACTIONS = [
  'autoscaling:DescribeAutoScalingInstances',
  'autoscaling:DetachInstances',
  'elasticloadbalancing:DescribeTargetGroups',
  'elasticloadbalancing:DescribeTargetHealth',
  'elasticloadbalancing:DeregisterTargets',
] as const;

/** Target groups examined at most when the plan names none. */
export const MAX_TARGET_GROUPS = 100;
/** DescribeTargetHealth calls in flight at once. */
const HEALTH_CONCURRENCY = 5;

async function detachFromGroup(step: DetachStep, group: string, ctx: StepContext): Promise<StepOutcome> {
  const instanceId = step.resource;
  try {
    const membership = await ctx.clients.autoScaling.send(new DescribeAutoScalingInstancesCommand({ InstanceIds: [instanceId] }));
    const member = membership.AutoScalingInstances?.find((i) => i.InstanceId === instanceId);
    if (!member || member.AutoScalingGroupName !== group || /^Detach/.test(member.LifecycleState ?? '')) {
      return outcome(step, 'already-done', `${instanceId} is no longer in Auto Scaling group ${group}`);
    }
    await ctx.clients.autoScaling.send(
      new DetachInstancesCommand({ AutoScalingGroupName: group, InstanceIds: [instanceId], ShouldDecrementDesiredCapacity: false }),
    );
    return outcome(step, 'done', `detached ${instanceId} from Auto Scaling group ${group}; the group launches a replacement`, { autoScalingGroup: group });
  } catch (err) {
    if (hasErrorName(err, 'ValidationError') && /not part of/i.test(String((err as Error).message))) {
      return outcome(step, 'already-done', `${instanceId} is no longer in Auto Scaling group ${group}`);
    }
    return failedOutcome(step, err, `could not detach ${instanceId} from Auto Scaling group ${group}`);
  }
}

/** The registrations of the instance in one target group (with the port it was registered on). */
async function registrations(arn: string, instanceId: string, ctx: StepContext): Promise<TargetDescription[]> {
  try {
    const res = await ctx.clients.elbv2.send(new DescribeTargetHealthCommand({ TargetGroupArn: arn, Targets: [{ Id: instanceId }] }));
    return (res.TargetHealthDescriptions ?? [])
      .filter((d) => d.Target?.Id === instanceId && d.TargetHealth?.Reason !== 'Target.NotRegistered')
      .map((d) => ({ Id: instanceId, ...(d.Target?.Port !== undefined ? { Port: d.Target.Port } : {}) }));
  } catch (err) {
    if (hasErrorName(err, 'InvalidTarget', 'TargetGroupNotFound', 'TargetGroupNotFoundException', 'InvalidTargetException')) return [];
    throw err;
  }
}

async function mapBounded<T, R>(items: T[], limit: number, fn: (item: T) => Promise<R>): Promise<R[]> {
  const results: R[] = new Array(items.length);
  let next = 0;
  const workers = Array.from({ length: Math.min(limit, items.length) }, async () => {
    while (next < items.length) {
      const i = next++;
      results[i] = await fn(items[i]!);
    }
  });
  await Promise.all(workers);
  return results;
}

async function candidateTargetGroups(step: DetachStep, ctx: StepContext): Promise<{ arns: string[]; truncated: boolean }> {
  if (step.targetGroupArns.length > 0) return { arns: step.targetGroupArns, truncated: false };
  const arns: string[] = [];
  for await (const page of paginateDescribeTargetGroups({ client: ctx.clients.elbv2 }, {})) {
    for (const tg of page.TargetGroups ?? []) {
      if (tg.TargetGroupArn && (tg.TargetType === undefined || tg.TargetType === 'instance')) arns.push(tg.TargetGroupArn);
      if (arns.length > MAX_TARGET_GROUPS) return { arns: arns.slice(0, MAX_TARGET_GROUPS), truncated: true };
    }
  }
  return { arns, truncated: false };
}

async function deregister(step: DetachStep, ctx: StepContext): Promise<StepOutcome> {
  const instanceId = step.resource;
  try {
    const { arns, truncated } = await candidateTargetGroups(step, ctx);
    const found = await mapBounded(arns, HEALTH_CONCURRENCY, async (arn) => ({ arn, targets: await registrations(arn, instanceId, ctx) }));
    const listed = found.filter((f) => f.targets.length > 0);
    const registered: typeof listed = [];
    for (const entry of listed) {
      try {
        await ctx.clients.elbv2.send(new DeregisterTargetsCommand({ TargetGroupArn: entry.arn, Targets: entry.targets }));
        registered.push(entry);
      } catch (err) {
        // A group deleted, or a target already gone, since it was listed: nothing left to undo there.
        if (!hasErrorName(err, 'TargetGroupNotFound', 'TargetGroupNotFoundException', 'InvalidTarget', 'InvalidTargetException')) throw err;
      }
    }
    const limit = truncated ? `; only the first ${MAX_TARGET_GROUPS} target groups were examined` : '';
    if (registered.length === 0) return outcome(step, 'already-done', `${instanceId} is in no target group${limit}`);
    return outcome(step, 'done', `deregistered ${instanceId} from ${registered.map((r) => r.arn).join(', ')}${limit}`, {
      targetGroupArns: registered.map((r) => r.arn),
    });
  } catch (err) {
    return failedOutcome(step, err, `could not deregister ${instanceId} from its target groups`);
  }
}

export function run(step: DetachStep, ctx: StepContext): Promise<StepOutcome> {
  return guarded(step, async () => {
    await loadLaterClients();
    const parts: StepOutcome[] = [];
    if (step.autoScalingGroup) parts.push(await detachFromGroup(step, step.autoScalingGroup, ctx));
    parts.push(await deregister(step, ctx));
    const produced: Record<string, unknown> = {};
    for (const p of parts) Object.assign(produced, p.produced ?? {});
    return combine(step, parts, produced);
  });
}
