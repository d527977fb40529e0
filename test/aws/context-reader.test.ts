import { LookupEventsCommand } from '@aws-sdk/client-cloudtrail';
import { DescribeImagesCommand, DescribeInstanceAttributeCommand, DescribeInstancesCommand, DescribeSecurityGroupsCommand } from '@aws-sdk/client-ec2';
import { GetParametersByPathCommand } from '@aws-sdk/client-ssm';
import { AwsContextReader } from '../../functions/aws/context-reader';
import { ADMIN_SG, ENI_PRIMARY, ENI_SECONDARY, INSTANCE, VOL_DATA, VOL_ROOT, VPC, awsError, instance, mocks, testClients, type Mocks } from './fixtures';

describe('AwsContextReader', () => {
  let m: Mocks;
  let sleeps: number[];
  const reader = () =>
    new AwsContextReader(testClients(), {
      sleep: async (ms) => {
        sleeps.push(ms);
      },
    });
  beforeEach(() => {
    m = mocks();
    sleeps = [];
  });
  afterEach(() => Object.values(m).forEach((mock) => mock.restore()));

  describe('instance', () => {
    it('reads interfaces, volumes, stack, Auto Scaling group, launch template and the two attributes', async () => {
      m.ec2.on(DescribeInstancesCommand).resolves({
        Reservations: [
          {
            Instances: [
              instance(
                { KeyName: 'ops', LaunchTime: new Date('2026-03-01T09:00:00Z') },
                {
                  'aws:autoscaling:groupName': 'web-fleet',
                  'aws:cloudformation:stack-name': 'web',
                  'aws:cloudformation:stack-id': 'arn:stack/web/1',
                  'aws:cloudformation:logical-id': 'Fleet',
                  'aws:ec2launchtemplate:id': 'lt-0abc',
                  'aws:ec2launchtemplate:version': '3',
                },
              ),
            ],
          },
        ],
      });
      m.ec2.on(DescribeInstanceAttributeCommand, { Attribute: 'disableApiTermination' }).resolves({ DisableApiTermination: { Value: true } });
      m.ec2.on(DescribeInstanceAttributeCommand, { Attribute: 'instanceInitiatedShutdownBehavior' }).resolves({ InstanceInitiatedShutdownBehavior: { Value: 'stop' } });
      const result = await reader().instance(INSTANCE);
      expect(result.status).toBe('found');
      if (result.status !== 'found') return;
      expect(result.value).toMatchObject({
        instanceId: INSTANCE,
        state: 'running',
        vpcId: VPC,
        keyName: 'ops',
        launchTime: '2026-03-01T09:00:00.000Z',
        autoScalingGroup: 'web-fleet',
        stack: { stackName: 'web', stackId: 'arn:stack/web/1', logicalId: 'Fleet' },
        launchTemplate: { id: 'lt-0abc', version: '3' },
        terminationProtection: true,
        shutdownBehavior: 'stop',
      });
      expect(result.value.networkInterfaces.map((n) => [n.networkInterfaceId, n.deviceIndex])).toEqual([
        [ENI_PRIMARY, 0],
        [ENI_SECONDARY, 1],
      ]);
      expect(result.value.volumes.map((v) => v.volumeId)).toEqual([VOL_ROOT, VOL_DATA]);
    });

    it('asks for the two attributes together with DescribeInstances, not after its answer', async () => {
      let attributeReadsBeforeDescribe = -1;
      m.ec2.on(DescribeInstancesCommand).callsFake(() => {
        attributeReadsBeforeDescribe = m.ec2.commandCalls(DescribeInstanceAttributeCommand).length;
        return { Reservations: [{ Instances: [instance()] }] };
      });
      m.ec2.on(DescribeInstanceAttributeCommand, { Attribute: 'disableApiTermination' }).resolves({ DisableApiTermination: { Value: false } });
      m.ec2.on(DescribeInstanceAttributeCommand, { Attribute: 'instanceInitiatedShutdownBehavior' }).resolves({ InstanceInitiatedShutdownBehavior: { Value: 'terminate' } });
      const result = await reader().instance(INSTANCE);
      expect(attributeReadsBeforeDescribe).toBe(2);
      expect(result).toMatchObject({ status: 'found', value: { terminationProtection: false, shutdownBehavior: 'terminate' } });
    });

    it('asks for the attributes again when the early ask raced a just-launched instance', async () => {
      m.ec2.on(DescribeInstancesCommand).resolvesOnce({ Reservations: [] }).resolves({ Reservations: [{ Instances: [instance()] }] });
      m.ec2
        .on(DescribeInstanceAttributeCommand, { Attribute: 'disableApiTermination' })
        .rejectsOnce(awsError('InvalidInstanceID.NotFound'))
        .resolves({ DisableApiTermination: { Value: true } });
      m.ec2.on(DescribeInstanceAttributeCommand, { Attribute: 'instanceInitiatedShutdownBehavior' }).resolves({ InstanceInitiatedShutdownBehavior: { Value: 'stop' } });
      const result = await reader().instance(INSTANCE);
      expect(result).toMatchObject({ status: 'found', value: { terminationProtection: true, shutdownBehavior: 'stop' } });
      expect(m.ec2).toHaveReceivedCommandTimes(DescribeInstanceAttributeCommand, 4);
    });

    it('is not found for InvalidInstanceID.NotFound', async () => {
      m.ec2.on(DescribeInstancesCommand).rejects(awsError('InvalidInstanceID.NotFound'));
      expect(await reader().instance(INSTANCE)).toEqual({ status: 'not-found' });
    });

    it('asks again with backoff while a just-launched instance is not yet visible', async () => {
      m.ec2
        .on(DescribeInstancesCommand)
        .resolvesOnce({ Reservations: [] })
        .resolvesOnce({ Reservations: [] })
        .resolves({ Reservations: [{ Instances: [instance()] }] });
      m.ec2.on(DescribeInstanceAttributeCommand).resolves({});
      const result = await reader().instance(INSTANCE);
      expect(result.status).toBe('found');
      expect(sleeps).toEqual([250, 500]);
    });

    it('gives up after four tries and calls it not found', async () => {
      m.ec2.on(DescribeInstancesCommand).resolves({ Reservations: [] });
      expect(await reader().instance(INSTANCE)).toEqual({ status: 'not-found' });
      expect(m.ec2).toHaveReceivedCommandTimes(DescribeInstancesCommand, 4);
    });

    it('is unknown, with the reason, on any other error (fail closed)', async () => {
      m.ec2.on(DescribeInstancesCommand).rejects(awsError('UnauthorizedOperation', 'no'));
      const result = await reader().instance(INSTANCE);
      expect(result).toEqual({ status: 'unknown', reason: expect.stringContaining('UnauthorizedOperation') });
    });
  });

  it('reads a security group with its stack membership', async () => {
    m.ec2.on(DescribeSecurityGroupsCommand).resolves({
      SecurityGroups: [{ GroupId: ADMIN_SG, GroupName: 'admin', VpcId: VPC, Tags: [{ Key: 'aws:cloudformation:stack-name', Value: 'net' }] }],
    });
    expect(await reader().securityGroup(ADMIN_SG)).toEqual({
      status: 'found',
      value: { groupId: ADMIN_SG, groupName: 'admin', vpcId: VPC, tags: { 'aws:cloudformation:stack-name': 'net' }, stack: { stackName: 'net' } },
    });
  });

  it('reads an image, and an image that does not exist is not found', async () => {
    m.ec2.on(DescribeImagesCommand, { ImageIds: ['ami-0aaaaaaaaaaaaaaaa'] }).resolves({
      Images: [{ ImageId: 'ami-0aaaaaaaaaaaaaaaa', OwnerId: '999988887777', CreationDate: '2026-01-05T12:00:00.000Z', Name: 'golden' }],
    });
    m.ec2.on(DescribeImagesCommand, { ImageIds: ['ami-0bbbbbbbbbbbbbbbb'] }).resolves({ Images: [] });
    expect(await reader().image('ami-0aaaaaaaaaaaaaaaa')).toEqual({
      status: 'found',
      value: { imageId: 'ami-0aaaaaaaaaaaaaaaa', ownerId: '999988887777', creationDate: '2026-01-05T12:00:00.000Z', name: 'golden' },
    });
    expect(await reader().image('ami-0bbbbbbbbbbbbbbbb')).toEqual({ status: 'not-found' });
  });

  describe('approvedAmiIds', () => {
    it('reads every page under the path, recursively, keeping only AMI ids', async () => {
      m.ssm
        .on(GetParametersByPathCommand)
        .resolvesOnce({ Parameters: [{ Name: '/golden/web', Value: 'ami-0aaaaaaaaaaaaaaaa' }], NextToken: 'p2' })
        .resolves({ Parameters: [{ Name: '/golden/db', Value: 'ami-0bbbbbbbbbbbbbbbb,ami-0cccccccccccccccc' }, { Name: '/golden/note', Value: 'hello' }] });
      const result = await reader().approvedAmiIds('/golden');
      expect(result).toEqual({ status: 'found', value: ['ami-0aaaaaaaaaaaaaaaa', 'ami-0bbbbbbbbbbbbbbbb', 'ami-0cccccccccccccccc'] });
      expect(m.ssm).toHaveReceivedCommandWith(GetParametersByPathCommand, { Path: '/golden', Recursive: true });
      expect(m.ssm).toHaveReceivedCommandWith(GetParametersByPathCommand, { Path: '/golden', Recursive: true, NextToken: 'p2' });
    });

    it('is not found for a path with no parameter (a typo must not mean "nothing approved")', async () => {
      m.ssm.on(GetParametersByPathCommand).resolves({ Parameters: [] });
      expect(await reader().approvedAmiIds('/golden')).toEqual({ status: 'not-found' });
    });

    it('is unknown when SSM cannot be read', async () => {
      m.ssm.on(GetParametersByPathCommand).rejects(awsError('AccessDeniedException'));
      expect((await reader().approvedAmiIds('/golden')).status).toBe('unknown');
    });
  });

  describe('tagWriter', () => {
    const createTags = (arn: string, key: string, time: string, extra: Record<string, unknown> = {}) => ({
      EventName: 'CreateTags',
      CloudTrailEvent: JSON.stringify({
        eventTime: time,
        userIdentity: { type: 'AssumedRole', arn: `arn:aws:sts::111122223333:assumed-role/${arn}/s`, sessionContext: { sessionIssuer: { arn: `arn:aws:iam::111122223333:role/${arn}` } } },
        requestParameters: { resourcesSet: { items: [{ resourceId: INSTANCE }] }, tagSet: { items: [{ key, value: 'x' }] } },
        ...extra,
      }),
    });

    it('names the role that most recently set the tag, skipping failed calls and other keys', async () => {
      m.cloudTrail.on(LookupEventsCommand).resolves({
        Events: [
          createTags('Intruder', 'driftwarden:exempt-until', '2026-03-02T09:00:00Z', { errorCode: 'UnauthorizedOperation' }),
          createTags('Other', 'Name', '2026-03-02T08:00:00Z'),
          createTags('BreakGlass', 'driftwarden:exempt-until', '2026-03-01T08:00:00Z'),
          createTags('Older', 'driftwarden:exempt-until', '2026-02-01T08:00:00Z'),
        ],
      });
      const result = await reader().tagWriter(INSTANCE, 'driftwarden:exempt-until');
      expect(result).toEqual({ status: 'found', value: { arn: 'arn:aws:iam::111122223333:role/BreakGlass', time: '2026-03-01T08:00:00Z' } });
      expect(m.cloudTrail).toHaveReceivedCommandWith(LookupEventsCommand, { LookupAttributes: [{ AttributeKey: 'ResourceName', AttributeValue: INSTANCE }] });
    });

    it('is not found when no CreateTags set the key', async () => {
      m.cloudTrail.on(LookupEventsCommand).resolves({ Events: [createTags('Other', 'Name', '2026-03-02T08:00:00Z')] });
      expect(await reader().tagWriter(INSTANCE, 'driftwarden:exempt-until')).toEqual({ status: 'not-found' });
    });

    it('is unknown when CloudTrail cannot be read', async () => {
      m.cloudTrail.on(LookupEventsCommand).rejects(awsError('ThrottlingException'));
      expect((await reader().tagWriter(INSTANCE, 'k')).status).toBe('unknown');
    });
  });
});
