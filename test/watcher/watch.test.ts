import { CloudFormationClient, DescribeStackEventsCommand, DescribeStackResourcesCommand } from '@aws-sdk/client-cloudformation';
import { DescribeInstanceAttributeCommand, DescribeInstancesCommand, EC2Client, TerminateInstancesCommand, type Instance } from '@aws-sdk/client-ec2';
import { PublishCommand, SNSClient } from '@aws-sdk/client-sns';
import { SSMClient } from '@aws-sdk/client-ssm';
import { mockClient } from 'aws-sdk-client-mock';
import type { AwsClients } from '../../functions/aws/clients';
import { ReplacementLedger, type ReplacementInput } from '../../functions/aws/state/replacements';
import { policySchema } from '../../functions/core/policy/schema';
import { parseStackStatusEvent, watchStackEvent, type WatcherDeps } from '../../functions/watcher/watch';
import { useDynalite } from '../helpers/dynalite';

const db = useDynalite();
const ec2 = mockClient(EC2Client);
const cfn = mockClient(CloudFormationClient);
const sns = mockClient(SNSClient);
const clients = {
  ec2: new EC2Client({ region: 'eu-west-1' }),
  cloudFormation: new CloudFormationClient({ region: 'eu-west-1' }),
  sns: new SNSClient({ region: 'eu-west-1' }),
  ssm: new SSMClient({ region: 'eu-west-1' }),
} as unknown as AwsClients;

const TOKEN = 'driftwarden-instance-manual-change-evt-1';
const REPLACEMENT_TOKEN = 'dw-0123456789abcdef01234567';
const GOLDEN = 'ami-0123456789abcdef0';
const NOW = new Date('2026-03-01T12:00:00Z');
const policy = policySchema.parse({ approvedAmis: { ids: [GOLDEN] } });

const recordInput = (over: Partial<ReplacementInput> = {}): ReplacementInput => ({
  clientRequestToken: TOKEN,
  replacementToken: REPLACEMENT_TOKEN,
  findingId: 'instance-manual-change:evt-1',
  eventId: 'evt-1',
  instanceId: 'i-0old',
  stackName: 'web',
  stackId: 'arn:aws:cloudformation:eu-west-1:111122223333:stack/web/1',
  logicalId: 'WebInstance',
  accountId: '111122223333',
  region: 'eu-west-1',
  holdSeconds: 0,
  force: false,
  quarantinedAt: '2026-03-01T11:00:00.000Z',
  severity: 'HIGH',
  summary: 'alice changed instanceType of i-0old in place',
  ...over,
});

const stackEvent = (status: string, reason?: string, token = TOKEN) => ({
  version: '0',
  id: 'cfn-event-1',
  source: 'aws.cloudformation',
  'detail-type': 'CloudFormation Stack Status Change',
  account: '111122223333',
  region: 'eu-west-1',
  time: '2026-03-01T12:00:00Z',
  detail: {
    'stack-id': 'arn:aws:cloudformation:eu-west-1:111122223333:stack/web/1',
    'status-details': { status, ...(reason ? { 'status-reason': reason } : {}) },
    'client-request-token': token,
  },
});

const newInstance = (over: Partial<Instance> = {}): Instance => ({
  InstanceId: 'i-0new',
  ImageId: GOLDEN,
  State: { Name: 'running' },
  LaunchTime: new Date('2026-03-01T11:55:00Z'),
  Tags: [
    { Key: 'aws:cloudformation:stack-name', Value: 'web' },
    { Key: 'aws:cloudformation:logical-id', Value: 'WebInstance' },
    { Key: 'driftwarden:replacement-token', Value: REPLACEMENT_TOKEN },
  ],
  SecurityGroups: [{ GroupId: 'sg-0web', GroupName: 'web' }],
  NetworkInterfaces: [{ NetworkInterfaceId: 'eni-1', Groups: [{ GroupId: 'sg-0web', GroupName: 'web' }] }],
  ...over,
});

const oldInstance: Instance = {
  InstanceId: 'i-0old',
  State: { Name: 'stopped' },
  Tags: [
    { Key: 'driftwarden:quarantined', Value: 'instance-manual-change:evt-1' },
    { Key: 'driftwarden:protection-set', Value: 'true' },
  ],
};

async function setup(over: Partial<ReplacementInput> = {}, fresh: Instance = newInstance()) {
  const tables = await db.createTables();
  const ledger = new ReplacementLedger({ client: db.client(), tableName: tables.state, now: () => NOW });
  await ledger.record(recordInput(over));
  ec2.on(DescribeInstancesCommand, { InstanceIds: ['i-0new'] }).resolves({ Reservations: [{ Instances: [fresh] }] });
  ec2.on(DescribeInstancesCommand, { InstanceIds: ['i-0old'] }).resolves({ Reservations: [{ Instances: [oldInstance] }] });
  ec2.on(DescribeInstanceAttributeCommand).resolves({ DisableApiTermination: { Value: true } });
  ec2.on(TerminateInstancesCommand).resolves({});
  cfn.on(DescribeStackResourcesCommand).resolves({
    StackResources: [{ LogicalResourceId: 'WebInstance', PhysicalResourceId: 'i-0new', ResourceType: 'AWS::EC2::Instance', ResourceStatus: 'UPDATE_COMPLETE', Timestamp: NOW }],
  });
  sns.on(PublishCommand).resolves({ MessageId: 'm-1' });
  const deps: WatcherDeps = { ledger, clientsFor: () => clients, policy, topicArn: 'arn:aws:sns:eu-west-1:111122223333:alerts', now: () => NOW };
  return { ledger, deps };
}

function publishedAlert(): { subject: string; email: string; attributes: Record<string, { StringValue?: string }> } {
  const calls = sns.commandCalls(PublishCommand);
  expect(calls).toHaveLength(1);
  const input = calls[0].args[0].input;
  return { subject: input.Subject ?? '', email: JSON.parse(input.Message ?? '{}').email as string, attributes: input.MessageAttributes as Record<string, { StringValue?: string }> };
}

beforeEach(() => {
  ec2.reset();
  cfn.reset();
  sns.reset();
});

describe('watchStackEvent: UPDATE_COMPLETE with a healthy replacement', () => {
  it('with no hold, terminates the quarantined instance at once and sends a "replaced" alert naming both instances', async () => {
    const { deps, ledger } = await setup({ holdSeconds: 0 });
    const result = await watchStackEvent(stackEvent('UPDATE_COMPLETE'), deps);

    expect(result).toMatchObject({ status: 'replaced', oldInstanceId: 'i-0old', newInstanceId: 'i-0new', termination: { status: 'done' } });
    expect(cfn).toHaveReceivedCommandWith(DescribeStackResourcesCommand, { StackName: 'arn:aws:cloudformation:eu-west-1:111122223333:stack/web/1', LogicalResourceId: 'WebInstance' });
    expect(ec2).toHaveReceivedCommandTimes(TerminateInstancesCommand, 1);
    expect(ec2).toHaveReceivedCommandWith(TerminateInstancesCommand, { InstanceIds: ['i-0old'] });
    const alert = publishedAlert();
    expect(alert.attributes.kind.StringValue).toBe('replaced');
    expect(alert.email).toContain('i-0old');
    expect(alert.email).toContain('i-0new');
    expect(alert.email).toContain('FINDING IDS: instance-manual-change:evt-1');
    expect((await ledger.find(TOKEN))?.status).toBe('terminated');
  });

  it('with a hold, terminates nothing now and records the termination as due when the hold ends', async () => {
    const { deps, ledger } = await setup({ holdSeconds: 3600 });
    const result = await watchStackEvent(stackEvent('UPDATE_COMPLETE'), deps);

    expect(result).toMatchObject({ status: 'termination-due', termination: { status: 'deferred' } });
    expect(ec2).not.toHaveReceivedCommand(TerminateInstancesCommand);
    expect(await ledger.find(TOKEN)).toMatchObject({ status: 'termination-due', newInstanceId: 'i-0new', terminateAfter: '2026-03-01T13:00:00.000Z' });
    expect((await ledger.dueTerminations(new Date('2026-03-01T13:00:00Z'))).map((r) => r.instanceId)).toEqual(['i-0old']);
    const alert = publishedAlert();
    expect(alert.attributes.kind.StringValue).toBe('replaced');
    expect(alert.email).toContain('terminated after 2026-03-01T13:00:00.000Z');
  });

  it('terminates once when EventBridge delivers the same event twice', async () => {
    const { deps } = await setup({ holdSeconds: 0 });
    const first = await watchStackEvent(stackEvent('UPDATE_COMPLETE'), deps);
    const second = await watchStackEvent(stackEvent('UPDATE_COMPLETE'), deps);
    expect([first.status, second.status]).toEqual(['replaced', 'duplicate']);
    expect(ec2).toHaveReceivedCommandTimes(TerminateInstancesCommand, 1);
    expect(sns).toHaveReceivedCommandTimes(PublishCommand, 1);
  });
});

describe('watchStackEvent: UPDATE_COMPLETE with an untrustworthy replacement', () => {
  it.each([
    ['launched with a key pair', newInstance({ KeyName: 'ops' }), 'key pair "ops"'],
    ['from an unapproved image', newInstance({ ImageId: 'ami-0badbadbadbadbad0' }), 'unapproved image ami-0badbadbadbadbad0'],
    ['in an isolation group', newInstance({ SecurityGroups: [{ GroupId: 'sg-0iso', GroupName: 'driftwarden-isolation-vpc-1' }] }), 'isolation group(s) sg-0iso'],
    ['without this replacement’s token', newInstance({ Tags: [] }), 'not this replacement'],
  ])('keeps the quarantine and sends a CRITICAL alert when the new instance was %s', async (_what, fresh, why) => {
    const { deps, ledger } = await setup({ holdSeconds: 0 }, fresh);
    const result = await watchStackEvent(stackEvent('UPDATE_COMPLETE'), deps);

    expect(result.status).toBe('kept');
    expect(result.reason).toContain(why);
    expect(ec2).not.toHaveReceivedCommand(TerminateInstancesCommand);
    const alert = publishedAlert();
    expect(alert.attributes.severity.StringValue).toBe('CRITICAL');
    expect(alert.attributes.kind.StringValue).toBe('replacement-failed');
    expect(alert.email).toContain(why);
    expect(await ledger.find(TOKEN)).toMatchObject({ status: 'kept' });
  });

  it('keeps the quarantine when CloudFormation still names the old instance (nothing was replaced)', async () => {
    const { deps } = await setup();
    cfn.on(DescribeStackResourcesCommand).resolves({ StackResources: [{ LogicalResourceId: 'WebInstance', PhysicalResourceId: 'i-0old', ResourceType: 'AWS::EC2::Instance', ResourceStatus: 'UPDATE_COMPLETE', Timestamp: NOW }] });
    const result = await watchStackEvent(stackEvent('UPDATE_COMPLETE'), deps);
    expect(result.status).toBe('kept');
    expect(ec2).not.toHaveReceivedCommand(TerminateInstancesCommand);
  });
});

describe('watchStackEvent: the update failed', () => {
  it('on rollback, keeps the quarantine and alerts CRITICAL with the stack reason and the first failed resource', async () => {
    const { deps, ledger } = await setup();
    cfn.on(DescribeStackEventsCommand).resolves({
      StackEvents: [
        { StackId: 's', EventId: '3', StackName: 'web', Timestamp: new Date('2026-03-01T11:59:00Z'), ClientRequestToken: TOKEN, LogicalResourceId: 'web', ResourceType: 'AWS::CloudFormation::Stack', ResourceStatus: 'UPDATE_ROLLBACK_IN_PROGRESS' },
        { StackId: 's', EventId: '2', StackName: 'web', Timestamp: new Date('2026-03-01T11:58:00Z'), ClientRequestToken: TOKEN, LogicalResourceId: 'WebInstance', ResourceType: 'AWS::EC2::Instance', ResourceStatus: 'CREATE_FAILED', ResourceStatusReason: 'WaitCondition timed out: no signal received' },
        { StackId: 's', EventId: '1', StackName: 'web', Timestamp: new Date('2026-03-01T11:50:00Z'), ClientRequestToken: 'other', LogicalResourceId: 'Old', ResourceType: 'AWS::EC2::Instance', ResourceStatus: 'CREATE_FAILED', ResourceStatusReason: 'an older failure' },
      ],
    });
    const result = await watchStackEvent(stackEvent('UPDATE_ROLLBACK_COMPLETE', 'The following resource(s) failed to create: [WebInstance].'), deps);

    expect(result.status).toBe('kept');
    expect(cfn).toHaveReceivedCommandWith(DescribeStackEventsCommand, { StackName: 'arn:aws:cloudformation:eu-west-1:111122223333:stack/web/1' });
    expect(ec2).not.toHaveReceivedCommand(TerminateInstancesCommand);
    const alert = publishedAlert();
    expect(alert.attributes.severity.StringValue).toBe('CRITICAL');
    expect(alert.email).toContain('The following resource(s) failed to create: [WebInstance].');
    expect(alert.email).toContain('WebInstance (AWS::EC2::Instance) CREATE_FAILED: WaitCondition timed out: no signal received');
    expect(alert.email).not.toContain('an older failure');
    expect(await ledger.find(TOKEN)).toMatchObject({ status: 'kept' });
  });

  it('on UPDATE_FAILED, keeps the quarantine and alerts CRITICAL even when the stack events cannot be read', async () => {
    const { deps } = await setup();
    cfn.on(DescribeStackEventsCommand).rejects(Object.assign(new Error('denied'), { name: 'AccessDenied' }));
    const result = await watchStackEvent(stackEvent('UPDATE_FAILED', 'Resource update cancelled'), deps);
    expect(result.status).toBe('kept');
    const alert = publishedAlert();
    expect(alert.attributes.severity.StringValue).toBe('CRITICAL');
    expect(alert.email).toContain('Resource update cancelled');
    expect(alert.email).toContain('The stack events could not be read: AccessDenied: denied');
  });

  it('alerts once for a duplicated rollback event', async () => {
    const { deps } = await setup();
    cfn.on(DescribeStackEventsCommand).resolves({ StackEvents: [] });
    await watchStackEvent(stackEvent('UPDATE_ROLLBACK_COMPLETE', 'x'), deps);
    const again = await watchStackEvent(stackEvent('UPDATE_ROLLBACK_COMPLETE', 'x'), deps);
    expect(again.status).toBe('duplicate');
    expect(sns).toHaveReceivedCommandTimes(PublishCommand, 1);
  });
});

describe('watchStackEvent: what it does not act on', () => {
  it('ignores a driftwarden- token the ledger does not know, and calls no AWS API', async () => {
    const { deps } = await setup();
    const result = await watchStackEvent(stackEvent('UPDATE_COMPLETE', undefined, 'driftwarden-not-ours'), deps);
    expect(result.status).toBe('ignored');
    expect(ec2.calls()).toHaveLength(0);
    expect(cfn.calls()).toHaveLength(0);
    expect(sns.calls()).toHaveLength(0);
  });

  it('ignores a token without the driftwarden- prefix', async () => {
    const { deps } = await setup();
    expect((await watchStackEvent(stackEvent('UPDATE_COMPLETE', undefined, 'pipeline-123'), deps)).status).toBe('ignored');
    expect(ec2.calls()).toHaveLength(0);
  });

  it('rejects malformed input with the reason, never throwing', async () => {
    const { deps } = await setup();
    expect(await watchStackEvent('not an event', deps)).toMatchObject({ status: 'rejected', reason: 'the event is not a JSON object' });
    expect((await watchStackEvent({ 'detail-type': 'AWS API Call via CloudTrail', detail: {} }, deps)).status).toBe('rejected');
    expect(parseStackStatusEvent({ 'detail-type': 'CloudFormation Stack Status Change', detail: { 'stack-id': 's', 'status-details': { status: 'UPDATE_COMPLETE' } } })).toEqual({
      ok: false,
      reason: 'the event has no detail.client-request-token',
    });
  });
});
