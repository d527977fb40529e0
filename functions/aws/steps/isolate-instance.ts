/**
 * Step `isolate-instance`: cut an instance off the network, keep it for forensics.
 *
 * Why two moves: security groups are stateful, and a connection that is already tracked
 * survives a change of groups. An allow-all group (0.0.0.0/0 and ::/0, all protocols, both
 * ways) makes the interface's flows untracked; the next call moves every interface into
 * the empty isolation group, which then cuts those untracked flows at once. The allow-all
 * window lasts one API round trip. Flows tracked elsewhere, by a NAT gateway or a Network
 * Load Balancer, survive even this, and the outcome says so for the alert.
 *
 * Before moving, the interfaces' current groups are written on the instance as
 * `driftwarden:original-groups` (release reads them back). The forensic hold turns on
 * termination protection (tagged `driftwarden:protection-set` only when driftwarden turned
 * it on, so that release and terminate lift only what driftwarden set) and makes an
 * instance-initiated shutdown stop rather than terminate the instance.
 *
 * The state is read fresh (the plan's interface list can be stale: an interface attached
 * since would stay open). Idempotent: the record is never overwritten by a retry, and an
 * instance whose every interface has only the isolation group is already isolated.
 */
import {
  CreateTagsCommand,
  DescribeInstanceAttributeCommand,
  ModifyInstanceAttributeCommand,
  ModifyNetworkInterfaceAttributeCommand,
  type EC2Client,
} from '@aws-sdk/client-ec2';
import type { IsolateInstanceStep, StepOutcome } from '../../core/decision';
import { tagsToRecord } from '../context-reader';
import { TAG, decodeOriginalGroups, describeInstance, encodeOriginalGroups, type OriginalGroups } from '../instances';
import type { StepContext } from './context';
import { ensureIsolationGroup, ensureUntrackGroup, IAM_ACTIONS as GROUP_IAM_ACTIONS } from './isolation-group';
import { failedOutcome, guarded, outcome } from './outcome';

export const IAM_ACTIONS = [
  ...GROUP_IAM_ACTIONS,
  'ec2:DescribeInstances',
  'ec2:DescribeInstanceAttribute',
  'ec2:ModifyNetworkInterfaceAttribute',
  'ec2:ModifyInstanceAttribute',
  'ec2:CreateTags',
] as const;

/** Said in every isolation outcome, because the alert must not promise more than a group change can do. */
export const SURVIVING_FLOWS_NOTE =
  'tracked connections were cut; flows tracked by a NAT gateway or a Network Load Balancer may survive a security-group change';

async function moveAll(ec2: EC2Client, enis: string[], groupId: string): Promise<void> {
  await Promise.all(enis.map((eni) => ec2.send(new ModifyNetworkInterfaceAttributeCommand({ NetworkInterfaceId: eni, Groups: [groupId] }))));
}

export function run(step: IsolateInstanceStep, ctx: StepContext): Promise<StepOutcome> {
  return guarded(step, async () => {
    const ec2 = ctx.clients.ec2;
    const instanceId = step.resource;
    const instance = await describeInstance(ec2, instanceId);
    if (!instance || instance.State?.Name === 'terminated') {
      return outcome(step, 'skipped', `instance ${instanceId} no longer exists: nothing to isolate`);
    }
    const vpcId = instance.VpcId ?? step.vpcId;
    if (!vpcId) return { ...outcome(step, 'failed', `instance ${instanceId} is in no VPC: cannot isolate it with security groups`), errorName: 'NoVpc' };

    const interfaces = (instance.NetworkInterfaces ?? [])
      .filter((n) => n.NetworkInterfaceId)
      .map((n) => ({ id: n.NetworkInterfaceId!, groups: (n.Groups ?? []).map((g) => g.GroupId!).filter(Boolean) }));
    if (interfaces.length === 0) return { ...outcome(step, 'failed', `instance ${instanceId} has no network interface to isolate`), errorName: 'NoNetworkInterface' };
    const tags = tagsToRecord(instance.Tags);

    const [isolation, untrack, protection, shutdown] = await Promise.all([
      ensureIsolationGroup(ec2, vpcId),
      ensureUntrackGroup(ec2, vpcId),
      ec2.send(new DescribeInstanceAttributeCommand({ InstanceId: instanceId, Attribute: 'disableApiTermination' })),
      ec2.send(new DescribeInstanceAttributeCommand({ InstanceId: instanceId, Attribute: 'instanceInitiatedShutdownBehavior' })),
    ]);
    const protectionOn = protection.DisableApiTermination?.Value === true;
    const shutdownBehavior = shutdown.InstanceInitiatedShutdownBehavior?.Value;

    const produced: Record<string, unknown> = {
      isolationGroupId: isolation.groupId,
      untrackGroupId: untrack.groupId,
      networkInterfaces: interfaces.map((i) => i.id),
      ...(isolation.created ? { isolationGroupCreated: true } : {}),
      ...(isolation.repaired.length > 0 ? { isolationGroupRepaired: isolation.repaired } : {}),
    };
    const repairedNote = isolation.repaired.length > 0 ? `; isolation group ${isolation.groupId} had rules (${isolation.repaired.join(', ')}) and was emptied` : '';

    const alreadyIsolated = interfaces.every((i) => i.groups.length === 1 && i.groups[0] === isolation.groupId);
    const holdNeeded = step.forensicHold && (!protectionOn || shutdownBehavior !== 'stop');
    if (alreadyIsolated && !holdNeeded) {
      produced.isolated = true;
      return outcome(step, 'already-done', `instance ${instanceId} is already isolated in ${isolation.groupId}${repairedNote}`, produced);
    }

    // The record comes first, so that a crash between the moves never loses the original groups.
    const record: { Key: string; Value: string }[] = [];
    const recorded = decodeOriginalGroups(tags);
    if (!recorded && !alreadyIsolated) {
      const original: OriginalGroups = Object.fromEntries(interfaces.map((i) => [i.id, i.groups]));
      // Fall back to the plan's view for an interface that sits in driftwarden's own groups.
      for (const planned of step.networkInterfaces) {
        const now = original[planned.networkInterfaceId];
        if (now && now.every((g) => g === isolation.groupId || g === untrack.groupId)) original[planned.networkInterfaceId] = planned.groups;
      }
      record.push(...encodeOriginalGroups(original));
      produced.originalGroups = original;
    }
    if (step.forensicHold) {
      if (!protectionOn && tags[TAG.protectionSet] === undefined) record.push({ Key: TAG.protectionSet, Value: 'true' });
      if (shutdownBehavior && shutdownBehavior !== 'stop' && tags[TAG.originalShutdownBehavior] === undefined) {
        record.push({ Key: TAG.originalShutdownBehavior, Value: shutdownBehavior });
      }
    }
    if (record.length > 0) await ec2.send(new CreateTagsCommand({ Resources: [instanceId], Tags: record }));

    const details: string[] = [];
    if (!alreadyIsolated) {
      const enis = interfaces.map((i) => i.id);
      await moveAll(ec2, enis, untrack.groupId);
      try {
        await moveAll(ec2, enis, isolation.groupId);
      } catch (err) {
        // Never leave the instance in the allow-all group: put it back where it was.
        const original = recorded ?? (produced.originalGroups as OriginalGroups | undefined) ?? {};
        const restored = await Promise.allSettled(
          interfaces.map((i) =>
            ec2.send(new ModifyNetworkInterfaceAttributeCommand({ NetworkInterfaceId: i.id, Groups: original[i.id] ?? i.groups })),
          ),
        );
        const stuck = interfaces.filter((_, n) => restored[n]!.status === 'rejected').map((i) => i.id);
        const after = stuck.length > 0 ? `interfaces ${stuck.join(', ')} are still in the allow-all group ${untrack.groupId}: isolate them by hand NOW` : 'the original groups were put back';
        return failedOutcome(step, err, `could not move ${instanceId} into isolation group ${isolation.groupId}; ${after}`, produced);
      }
      produced.isolated = true;
      details.push(`isolated ${instanceId}: ${enis.length} interface(s) ${enis.join(', ')} moved through ${untrack.groupId} into ${isolation.groupId}; ${SURVIVING_FLOWS_NOTE}`);
    } else {
      produced.isolated = true;
      details.push(`instance ${instanceId} is already isolated in ${isolation.groupId}`);
    }

    if (step.forensicHold) {
      try {
        if (!protectionOn) {
          await ec2.send(new ModifyInstanceAttributeCommand({ InstanceId: instanceId, DisableApiTermination: { Value: true } }));
        }
        if (shutdownBehavior !== 'stop') {
          await ec2.send(new ModifyInstanceAttributeCommand({ InstanceId: instanceId, InstanceInitiatedShutdownBehavior: { Value: 'stop' } }));
        }
        details.push(protectionOn ? 'termination protection was already on' : 'termination protection on');
      } catch (err) {
        // The instance is isolated; only the hold is missing. Report it as a failure so the follow-up alert says so.
        return failedOutcome(step, err, `${details.join('; ')}; but the forensic hold failed`, produced);
      }
    }
    return outcome(step, 'done', details.join('; ') + repairedNote, produced);
  });
}
