/**
 * Step `snapshot-volumes`: evidence. One snapshot per EBS volume of the instance, taken in
 * parallel, each tagged with the finding, the instance and the volume.
 *
 * Idempotent: snapshots already tagged with this finding id and volume (from an earlier
 * attempt) are found first and not taken again.
 */
import { CreateSnapshotCommand, DescribeSnapshotsCommand } from '@aws-sdk/client-ec2';
import type { SnapshotVolumesStep, StepOutcome } from '../../core/decision';
import { describeAwsError, awsErrorName } from '../aws-errors';
import type { StepContext } from './context';
import { guarded, outcome } from './outcome';

export const IAM_ACTIONS = ['ec2:DescribeSnapshots', 'ec2:CreateSnapshot', 'ec2:CreateTags'] as const;

export const SNAPSHOT_TAG = {
  findingId: 'driftwarden:finding-id',
  instanceId: 'driftwarden:instance-id',
  volume: 'driftwarden:volume',
} as const;

export function run(step: SnapshotVolumesStep, ctx: StepContext): Promise<StepOutcome> {
  return guarded(step, async () => {
    const ec2 = ctx.clients.ec2;
    const instanceId = step.resource;
    if (step.volumeIds.length === 0) return outcome(step, 'skipped', `instance ${instanceId} has no EBS volume to snapshot`);

    const existing = await ec2.send(
      new DescribeSnapshotsCommand({
        OwnerIds: ['self'],
        Filters: [
          { Name: `tag:${SNAPSHOT_TAG.findingId}`, Values: [step.findingId] },
          { Name: `tag:${SNAPSHOT_TAG.volume}`, Values: step.volumeIds },
        ],
      }),
    );
    const snapshots: Record<string, string> = {};
    for (const snap of existing.Snapshots ?? []) {
      const volume = snap.Tags?.find((t) => t.Key === SNAPSHOT_TAG.volume)?.Value ?? snap.VolumeId;
      if (volume && snap.SnapshotId && snap.State !== 'error' && step.volumeIds.includes(volume)) snapshots[volume] = snap.SnapshotId;
    }
    const toTake = step.volumeIds.filter((v) => !snapshots[v]);
    if (toTake.length === 0) {
      return outcome(step, 'already-done', `snapshots already taken: ${Object.values(snapshots).join(', ')}`, { snapshots });
    }

    const results = await Promise.allSettled(
      toTake.map((volumeId) =>
        ec2.send(
          new CreateSnapshotCommand({
            VolumeId: volumeId,
            Description: `driftwarden evidence: ${volumeId} of ${instanceId} for ${step.findingId}`.slice(0, 255),
            TagSpecifications: [
              {
                ResourceType: 'snapshot',
                Tags: [
                  { Key: SNAPSHOT_TAG.findingId, Value: step.findingId },
                  { Key: SNAPSHOT_TAG.instanceId, Value: instanceId },
                  { Key: SNAPSHOT_TAG.volume, Value: volumeId },
                ],
              },
            ],
          }),
        ),
      ),
    );
    const failures: string[] = [];
    let errorName: string | undefined;
    results.forEach((r, i) => {
      const volumeId = toTake[i]!;
      if (r.status === 'fulfilled' && r.value.SnapshotId) snapshots[volumeId] = r.value.SnapshotId;
      else {
        const err = r.status === 'rejected' ? r.reason : new Error('CreateSnapshot returned no SnapshotId');
        errorName ??= awsErrorName(err);
        failures.push(`${volumeId}: ${describeAwsError(err)}`);
      }
    });
    const taken = Object.entries(snapshots).map(([v, s]) => `${s} of ${v}`).join(', ');
    if (failures.length > 0) {
      return { ...outcome(step, 'failed', `could not snapshot ${failures.join('; ')}${taken ? `; taken: ${taken}` : ''}`, { snapshots }), errorName: errorName ?? 'UnknownError' };
    }
    return outcome(step, 'done', `snapshots taken: ${taken}`, { snapshots });
  });
}
