/**
 * `driftwarden release INSTANCE_ID`: undo a quarantine (not part of plans).
 *
 * Restores the groups recorded in `driftwarden:original-groups` on each interface, lifts
 * termination protection only when driftwarden set it, restores the recorded shutdown
 * behaviour, and removes driftwarden's quarantine tags, last, so that a release that stops
 * half-way can simply be run again.
 *
 * Outcomes are reported under the action whose work they undo: interface groups,
 * protection and shutdown behaviour under `isolate-instance`, the tags under `tag`.
 */
import {
  DeleteTagsCommand,
  DescribeInstanceAttributeCommand,
  ModifyInstanceAttributeCommand,
  ModifyNetworkInterfaceAttributeCommand,
} from '@aws-sdk/client-ec2';
import type { StepOutcome } from '../../core/decision';
import type { AwsClients } from '../clients';
import { tagsToRecord } from '../context-reader';
import { TAG, decodeOriginalGroups, describeInstance, isOriginalGroupsKey } from '../instances';
import { failedOutcome, guarded, outcome } from './outcome';

export const IAM_ACTIONS = [
  'ec2:DescribeInstances',
  'ec2:DescribeInstanceAttribute',
  'ec2:ModifyNetworkInterfaceAttribute',
  'ec2:ModifyInstanceAttribute',
  'ec2:DeleteTags',
] as const;

/** The tags release removes (plus every `driftwarden:original-groups-<n>`). */
export const RELEASED_TAGS = [TAG.quarantined, TAG.reason, TAG.quarantinedAt, TAG.originalGroups, TAG.protectionSet, TAG.originalShutdownBehavior] as const;

export async function releaseInstance(instanceId: string, clients: Pick<AwsClients, 'ec2'>): Promise<StepOutcome[]> {
  const isolate = { action: 'isolate-instance' as const, resource: instanceId };
  const tagStep = { action: 'tag' as const, resource: instanceId };
  const ec2 = clients.ec2;
  const outcomes: StepOutcome[] = [];

  let tags: Record<string, string>;
  let attached: Set<string>;
  try {
    const instance = await describeInstance(ec2, instanceId);
    if (!instance || instance.State?.Name === 'terminated') {
      return [{ ...outcome(isolate, 'failed', `instance ${instanceId} does not exist: nothing to release`), errorName: 'InstanceNotFound' }];
    }
    tags = tagsToRecord(instance.Tags);
    attached = new Set((instance.NetworkInterfaces ?? []).map((n) => n.NetworkInterfaceId).filter((id): id is string => Boolean(id)));
  } catch (err) {
    return [failedOutcome(isolate, err, `could not read ${instanceId}`)];
  }

  // 1. Interfaces back into their recorded groups.
  const hasRecord = Object.keys(tags).some(isOriginalGroupsKey);
  const original = decodeOriginalGroups(tags);
  let groupsRestored = false;
  if (!hasRecord) {
    outcomes.push(outcome(isolate, 'skipped', `no ${TAG.originalGroups} record on ${instanceId}: interface groups left as they are`));
  } else if (!original) {
    outcomes.push({ ...outcome(isolate, 'failed', `the ${TAG.originalGroups} record on ${instanceId} does not parse: restore the groups by hand`), errorName: 'RecordUnreadable' });
  } else {
    const entries = Object.entries(original).filter(([eni]) => attached.has(eni));
    const gone = Object.keys(original).filter((eni) => !attached.has(eni));
    const results = await Promise.allSettled(
      entries.map(([eni, groups]) => ec2.send(new ModifyNetworkInterfaceAttributeCommand({ NetworkInterfaceId: eni, Groups: groups }))),
    );
    const failed = results.map((r, i) => ({ r, eni: entries[i]![0] })).filter((x) => x.r.status === 'rejected');
    if (failed.length > 0) {
      outcomes.push(failedOutcome(isolate, (failed[0]!.r as PromiseRejectedResult).reason, `could not restore the groups of ${failed.map((f) => f.eni).join(', ')}`));
    } else {
      groupsRestored = true;
      const restored = entries.map(([eni, groups]) => `${eni} → ${groups.join(', ')}`).join('; ');
      outcomes.push(
        outcome(isolate, 'done', `restored groups: ${restored}${gone.length > 0 ? `; ${gone.join(', ')} no longer attached` : ''}`, { restoredGroups: Object.fromEntries(entries) }),
      );
    }
  }

  // 2. Termination protection, only if driftwarden set it; 3. shutdown behaviour, if recorded.
  try {
    if (tags[TAG.protectionSet] === 'true') {
      const protection = await ec2.send(new DescribeInstanceAttributeCommand({ InstanceId: instanceId, Attribute: 'disableApiTermination' }));
      if (protection.DisableApiTermination?.Value === true) {
        await ec2.send(new ModifyInstanceAttributeCommand({ InstanceId: instanceId, DisableApiTermination: { Value: false } }));
        outcomes.push(outcome(isolate, 'done', `termination protection lifted on ${instanceId} (driftwarden had set it)`));
      } else {
        outcomes.push(outcome(isolate, 'already-done', `termination protection already off on ${instanceId}`));
      }
    }
    const shutdownBehavior = tags[TAG.originalShutdownBehavior];
    if (shutdownBehavior) {
      await ec2.send(new ModifyInstanceAttributeCommand({ InstanceId: instanceId, InstanceInitiatedShutdownBehavior: { Value: shutdownBehavior } }));
      outcomes.push(outcome(isolate, 'done', `shutdown behaviour restored to ${shutdownBehavior} on ${instanceId}`));
    }
  } catch (err) {
    outcomes.push(failedOutcome(isolate, err, `could not lift the forensic hold on ${instanceId}`));
  }

  // 4. The tags, last, and only when everything above went through (they are the record a retry needs).
  if (outcomes.some((o) => o.status === 'failed') || (hasRecord && !groupsRestored)) {
    outcomes.push(outcome(tagStep, 'skipped', `quarantine tags kept on ${instanceId} so that release can be run again`));
    return outcomes;
  }
  const keys = Object.keys(tags).filter((k) => (RELEASED_TAGS as readonly string[]).includes(k) || isOriginalGroupsKey(k));
  if (keys.length === 0) {
    outcomes.push(outcome(tagStep, 'already-done', `no quarantine tag on ${instanceId}`));
    return outcomes;
  }
  outcomes.push(
    await guarded(tagStep, async () => {
      await ec2.send(new DeleteTagsCommand({ Resources: [instanceId], Tags: keys.sort().map((Key) => ({ Key })) }));
      return outcome(tagStep, 'done', `removed ${keys.join(', ')} from ${instanceId}`);
    }),
  );
  return outcomes;
}
