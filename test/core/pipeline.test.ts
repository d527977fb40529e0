/**
 * The pipeline's shortcuts for a replay (no context request for a read-only call, no promise
 * for an event that needs no context) decide every record exactly as the full path does:
 * normalize, ask for context, gather it through the reader, classify, plan.
 */
import { join } from 'node:path';
import fc from 'fast-check';
import { classify } from '../../functions/core/classify';
import type { ContextReader } from '../../functions/core/context';
import { normalize } from '../../functions/core/normalize';
import { evaluateInFull } from '../helpers/pipeline';
import { evaluateInput, evaluateInputNow } from '../../functions/core/pipeline';
import { loadPolicyFile } from '../../functions/core/policy/load';
import type { Policy } from '../../functions/core/policy/schema';
import { loadSnapshotFile, SnapshotContextReader } from '../../functions/core/snapshot';

const REPO = join(__dirname, '..', '..');
const NOW = '2026-11-20T09:00:00.000Z';

/** A reader over the sample snapshot that counts its calls. */
function countingReader(): { reader: ContextReader; calls: () => number } {
  const inner = new SnapshotContextReader(loadSnapshotFile(join(REPO, 'events/account-snapshot.json')));
  let calls = 0;
  const reader: ContextReader = {
    instance: (id) => (calls++, inner.instance(id)),
    securityGroup: (id) => (calls++, inner.securityGroup(id)),
    image: (id) => (calls++, inner.image(id)),
    approvedAmiIds: (path) => (calls++, inner.approvedAmiIds(path)),
    tagWriter: (id, tag) => (calls++, inner.tagWriter(id, tag)),
  };
  return { reader, calls: () => calls };
}

const SNAPSHOT_INSTANCE = 'i-0a1b2c3d4e5f60001';
const SNAPSHOT_GROUP = 'sg-0a1b2c3d4e5f60001';

/** CloudTrail records of reads and writes, readOnly flagged rightly, wrongly or not at all, some failed. */
const records = fc
  .record({
    call: fc.constantFrom(
      { eventSource: 'ec2.amazonaws.com', eventName: 'DescribeInstances', requestParameters: { instancesSet: { items: [{ instanceId: SNAPSHOT_INSTANCE }] } } },
      { eventSource: 'ec2.amazonaws.com', eventName: 'DescribeSecurityGroups', requestParameters: { groupIdSet: {} } },
      { eventSource: 's3.amazonaws.com', eventName: 'GetObject', requestParameters: { bucketName: 'b', key: 'k' } },
      { eventSource: 'ec2.amazonaws.com', eventName: 'AuthorizeSecurityGroupIngress', requestParameters: { groupId: SNAPSHOT_GROUP, ipPermissions: { items: [{ ipProtocol: 'tcp', fromPort: 22, toPort: 22, ipRanges: { items: [{ cidrIp: '0.0.0.0/0' }] } }] } } },
      { eventSource: 'ec2.amazonaws.com', eventName: 'ModifyInstanceAttribute', requestParameters: { instanceId: SNAPSHOT_INSTANCE, instanceType: { value: 'm5.large' } } },
      { eventSource: 'ec2.amazonaws.com', eventName: 'RunInstances', requestParameters: { instancesSet: { items: [{ imageId: 'ami-0123456789abcdef0' }] } } },
      { eventSource: 'ec2.amazonaws.com', eventName: 'CreateTags', requestParameters: { resourcesSet: { items: [{ resourceId: SNAPSHOT_INSTANCE }] }, tagSet: { items: [{ key: 'driftwarden:quarantine', value: 'x' }] } } },
      { eventSource: 'ssm.amazonaws.com', eventName: 'StartSession', requestParameters: { target: SNAPSHOT_INSTANCE } },
      { eventSource: 'cloudtrail.amazonaws.com', eventName: 'StopLogging', requestParameters: { name: 'org-trail' } },
    ),
    readOnly: fc.constantFrom(true, false, 'true', 'false', undefined),
    errorCode: fc.option(fc.constantFrom('AccessDenied', 'Client.UnauthorizedOperation'), { nil: undefined }),
    actor: fc.constantFrom(
      { type: 'IAMUser', arn: 'arn:aws:iam::111122223333:user/alice', accountId: '111122223333', principalId: 'AIDA1', userName: 'alice' },
      { type: 'AssumedRole', arn: 'arn:aws:sts::111122223333:assumed-role/Admin/bob', accountId: '111122223333', principalId: 'AROA1:bob', sessionContext: { sessionIssuer: { arn: 'arn:aws:iam::111122223333:role/Admin' } } },
      { type: 'AWSService', invokedBy: 'autoscaling.amazonaws.com' },
      { type: 'AssumedRole', arn: 'arn:aws:sts::111122223333:assumed-role/cfn/x', invokedBy: 'cloudformation.amazonaws.com', principalId: 'AROA2:x' },
    ),
    id: fc.uuid(),
  })
  .map(({ call, readOnly, errorCode, actor, id }) => ({
    eventVersion: '1.08',
    userIdentity: actor,
    eventTime: '2026-11-20T08:00:00Z',
    ...call,
    awsRegion: 'eu-west-1',
    sourceIPAddress: '203.0.113.9',
    eventID: id,
    recipientAccountId: '111122223333',
    ...(readOnly === undefined ? {} : { readOnly }),
    ...(errorCode === undefined ? {} : { errorCode, errorMessage: 'denied' }),
  }));

describe('evaluating a record', () => {
  let policy: Policy;
  beforeAll(() => {
    policy = loadPolicyFile(join(REPO, 'events/policy.yaml'));
  });

  it('gives for any read or write, flagged read-only or not, failed or not, what the full path gives', async () => {
    const { reader } = countingReader();
    let withoutPromise = 0;
    let withPromise = 0;
    await fc.assert(
      fc.asyncProperty(records, async (input) => {
        const now = evaluateInputNow(input, { policy, reader, now: NOW, dryRun: true });
        if (now instanceof Promise) withPromise++;
        else withoutPromise++;
        const full = await evaluateInFull(input, policy, reader, NOW);
        expect(now instanceof Promise ? await now : now).toEqual(full);
        expect(await evaluateInput(input, { policy, reader, now: NOW, dryRun: true })).toEqual(full);
      }),
      { numRuns: 600 },
    );
    expect(withoutPromise).toBeGreaterThan(50);
    expect(withPromise).toBeGreaterThan(50);
  });

  it('asks the reader nothing for a call flagged read-only, whatever its name', async () => {
    const { reader, calls } = countingReader();
    await fc.assert(
      fc.asyncProperty(records, async (input) => {
        const before = calls();
        const evaluation = evaluateInputNow({ ...input, readOnly: true }, { policy, reader, now: NOW, dryRun: true });
        expect(evaluation).not.toBeInstanceOf(Promise);
        expect(calls()).toBe(before);
        const expected = await evaluateInFull({ ...input, readOnly: true }, policy, reader, NOW);
        expect(evaluation).toEqual(expected);
        if ('plan' in expected) expect(expected.plan.steps).toEqual([]);
      }),
      { numRuns: 200 },
    );
  });
});
