import { CreateSnapshotCommand, DescribeSnapshotsCommand } from '@aws-sdk/client-ec2';
import { run } from '../../../functions/aws/steps/snapshot-volumes';
import { INSTANCE, INSTANCE_FINDING_ID, VOL_DATA, VOL_ROOT, awsError, mocks, plan, stepContext, steps, testClients, type Mocks } from '../fixtures';

describe('snapshot-volumes', () => {
  let m: Mocks;
  beforeEach(() => {
    m = mocks();
  });
  afterEach(() => Object.values(m).forEach((mock) => mock.restore()));
  const snapshot = () => {
    const step = steps.snapshot();
    return run(step, stepContext(testClients(), plan([step])));
  };

  it('snapshots every volume, each tagged with the finding, the instance and the volume', async () => {
    m.ec2.on(DescribeSnapshotsCommand).resolves({ Snapshots: [] });
    m.ec2.on(CreateSnapshotCommand).callsFake((input) => ({ SnapshotId: `snap-${input.VolumeId}` }));
    const outcome = await snapshot();
    for (const volume of [VOL_ROOT, VOL_DATA]) {
      expect(m.ec2).toHaveReceivedCommandWith(CreateSnapshotCommand, {
        VolumeId: volume,
        Description: expect.stringContaining(INSTANCE),
        TagSpecifications: [
          {
            ResourceType: 'snapshot',
            Tags: [
              { Key: 'driftwarden:finding-id', Value: INSTANCE_FINDING_ID },
              { Key: 'driftwarden:instance-id', Value: INSTANCE },
              { Key: 'driftwarden:volume', Value: volume },
            ],
          },
        ],
      });
    }
    expect(outcome.status).toBe('done');
    expect(outcome.produced).toEqual({ snapshots: { [VOL_ROOT]: `snap-${VOL_ROOT}`, [VOL_DATA]: `snap-${VOL_DATA}` } });
  });

  it('does not take again a snapshot an earlier attempt already took for this finding', async () => {
    m.ec2.on(DescribeSnapshotsCommand).resolves({
      Snapshots: [{ SnapshotId: 'snap-earlier', VolumeId: VOL_ROOT, State: 'pending', Tags: [{ Key: 'driftwarden:volume', Value: VOL_ROOT }] }],
    });
    m.ec2.on(CreateSnapshotCommand).resolves({ SnapshotId: 'snap-new' });
    const outcome = await snapshot();
    expect(m.ec2).toHaveReceivedCommandWith(DescribeSnapshotsCommand, {
      OwnerIds: ['self'],
      Filters: [
        { Name: 'tag:driftwarden:finding-id', Values: [INSTANCE_FINDING_ID] },
        { Name: 'tag:driftwarden:volume', Values: [VOL_ROOT, VOL_DATA] },
      ],
    });
    expect(m.ec2).toHaveReceivedCommandTimes(CreateSnapshotCommand, 1);
    expect(m.ec2).toHaveReceivedCommandWith(CreateSnapshotCommand, { VolumeId: VOL_DATA });
    expect(outcome.produced).toEqual({ snapshots: { [VOL_ROOT]: 'snap-earlier', [VOL_DATA]: 'snap-new' } });
  });

  it('fails naming the volume it could not snapshot, and keeps the one it took', async () => {
    m.ec2.on(DescribeSnapshotsCommand).resolves({ Snapshots: [] });
    m.ec2.on(CreateSnapshotCommand, { VolumeId: VOL_ROOT }).resolves({ SnapshotId: 'snap-root' });
    m.ec2.on(CreateSnapshotCommand, { VolumeId: VOL_DATA }).rejects(awsError('SnapshotCreationPerVolumeRateExceeded', 'too many'));
    const outcome = await snapshot();
    expect(outcome.status).toBe('failed');
    expect(outcome.errorName).toBe('SnapshotCreationPerVolumeRateExceeded');
    expect(outcome.detail).toContain(VOL_DATA);
    expect(outcome.produced).toEqual({ snapshots: { [VOL_ROOT]: 'snap-root' } });
  });
});
