import { CloudFormationClient, DetectStackResourceDriftCommand } from '@aws-sdk/client-cloudformation';
import {
  DescribeInstanceAttributeCommand,
  DescribeInstancesCommand,
  DescribeSecurityGroupsCommand,
  EC2Client,
  TerminateInstancesCommand,
  type DescribeInstancesCommandInput,
  type DescribeSecurityGroupsCommandInput,
  type Instance,
  type SecurityGroup,
} from '@aws-sdk/client-ec2';
import { PublishCommand, SNSClient } from '@aws-sdk/client-sns';
import { mockClient } from 'aws-sdk-client-mock';
import type { AwsClients } from '../../functions/aws/clients';
import { AlertLimiter } from '../../functions/aws/state/alert-limiter';
import { EffectivelyOnce, ViolationClaims } from '../../functions/aws/state/idempotency';
import { ReplacementLedger } from '../../functions/aws/state/replacements';
import { found, notFound, type ContextReader } from '../../functions/core/context';
import type { ChangeEvent } from '../../functions/core/model';
import { policySchema } from '../../functions/core/policy/schema';
import { SweepCursorStore } from '../../functions/sweeper/cursor';
import { DRIFT_ACTOR_NAME, runSweep, type RespondSummary, type SweepDeps } from '../../functions/sweeper/sweep';
import { useDynalite } from '../helpers/dynalite';

const db = useDynalite();
const ec2 = mockClient(EC2Client);
const cfn = mockClient(CloudFormationClient);
const sns = mockClient(SNSClient);
const clients = {
  ec2: new EC2Client({ region: 'eu-west-1' }),
  cloudFormation: new CloudFormationClient({ region: 'eu-west-1' }),
  sns: new SNSClient({ region: 'eu-west-1' }),
} as unknown as AwsClients;

const GOLDEN = 'ami-0123456789abcdef0';
const NOW = new Date('2026-03-01T12:00:00Z');
const policy = policySchema.parse({ approvedAmis: { ids: [GOLDEN] } });
const OWNER = '111122223333';

const reader: ContextReader = {
  instance: async () => notFound(),
  securityGroup: async () => notFound(),
  image: async (id) => found({ imageId: id, ownerId: '999999999999' }),
  approvedAmiIds: async () => notFound(),
  tagWriter: async () => notFound(),
};

const group = (id: string, permissions: SecurityGroup['IpPermissions'], tags: SecurityGroup['Tags'] = []): SecurityGroup => ({
  GroupId: id,
  GroupName: id,
  OwnerId: OWNER,
  VpcId: 'vpc-1',
  IpPermissions: permissions,
  IpPermissionsEgress: [{ IpProtocol: '-1', IpRanges: [{ CidrIp: '0.0.0.0/0' }] }],
  Tags: tags,
});
const instance = (id: string, over: Partial<Instance> = {}): Instance => ({
  InstanceId: id,
  ImageId: GOLDEN,
  State: { Name: 'running' },
  VpcId: 'vpc-1',
  LaunchTime: new Date('2026-02-01T00:00:00Z'),
  Tags: [],
  NetworkInterfaces: [{ NetworkInterfaceId: `eni-${id}`, Groups: [{ GroupId: 'sg-0web' }], Attachment: { DeviceIndex: 0 } }],
  BlockDeviceMappings: [{ DeviceName: '/dev/xvda', Ebs: { VolumeId: `vol-${id}` } }],
  ...over,
});

const GROUP_PAGES: Record<string, { SecurityGroups: SecurityGroup[]; NextToken?: string }> = {
  first: {
    SecurityGroups: [group('sg-0private', [{ IpProtocol: 'tcp', FromPort: 22, ToPort: 22, IpRanges: [{ CidrIp: '10.0.0.0/8' }] }])],
    NextToken: 'groups-2',
  },
  'groups-2': {
    SecurityGroups: [
      group('sg-0open', [{ IpProtocol: 'tcp', FromPort: 22, ToPort: 22, IpRanges: [{ CidrIp: '10.0.0.0/8' }, { CidrIp: '0.0.0.0/0' }] }]),
      group('sg-0https', [{ IpProtocol: 'tcp', FromPort: 443, ToPort: 443, IpRanges: [{ CidrIp: '0.0.0.0/0' }] }]),
    ],
  },
};
const INSTANCE_PAGES: Record<string, { Reservations: { OwnerId: string; Instances: Instance[] }[]; NextToken?: string }> = {
  first: {
    Reservations: [{ OwnerId: OWNER, Instances: [instance('i-0key', { KeyName: 'ops' }), instance('i-0clean')] }],
    NextToken: 'instances-2',
  },
  'instances-2': {
    Reservations: [
      {
        OwnerId: OWNER,
        Instances: [
          instance('i-0bad', { ImageId: 'ami-0badbadbadbadbad0' }),
          instance('i-0gone', { ImageId: 'ami-0badbadbadbadbad0', State: { Name: 'terminated' } }),
          instance('i-0held', { KeyName: 'ops', Tags: [{ Key: 'driftwarden:quarantined', Value: 'x' }] }),
        ],
      },
    ],
  },
};

const EXPECTED_KEYS = [
  'sweep:sg-rule:sg-0open:ingress:tcp:22-22:0.0.0.0/0',
  'sweep:launch:i-0key:ssh-key-material',
  'sweep:launch:i-0bad:unapproved-ami',
];

beforeEach(() => {
  ec2.reset();
  cfn.reset();
  sns.reset();
  ec2.on(DescribeSecurityGroupsCommand).callsFake((input: DescribeSecurityGroupsCommandInput) => GROUP_PAGES[input.NextToken ?? 'first']);
  ec2.on(DescribeInstancesCommand).callsFake((input: DescribeInstancesCommandInput) => INSTANCE_PAGES[input.NextToken ?? 'first']);
  sns.on(PublishCommand).resolves({ MessageId: 'm' });
});

async function makeDeps(over: Partial<SweepDeps> = {}) {
  const tables = await db.createTables();
  const client = db.client();
  const respond = jest.fn(async (_event: ChangeEvent, _options: { idempotencyKey: string }): Promise<RespondSummary> => ({ status: 'processed', decision: 'contain' }));
  const deps: SweepDeps = {
    regions: ['eu-west-1'],
    clientsFor: () => clients,
    readerFor: () => reader,
    policy: async () => policy,
    respond,
    ledger: new ReplacementLedger({ client, tableName: tables.state, now: () => NOW }),
    cursor: new SweepCursorStore({ client, tableName: tables.state, now: () => NOW }),
    alerts: new AlertLimiter({ client, tableName: tables.state, now: () => NOW }),
    topicArn: 'arn:aws:sns:eu-west-1:111122223333:alerts',
    now: () => NOW,
    remainingMs: () => 60_000,
    pageSize: 5,
    ...over,
  };
  return { deps, respond, tables, client };
}

describe('runSweep: finding what the live path missed', () => {
  it('pages through groups and instances, passing each NextToken, and hands each violation on once with its sweep key', async () => {
    const { deps, respond } = await makeDeps();
    const result = await runSweep(deps);

    expect(ec2).toHaveReceivedCommandTimes(DescribeSecurityGroupsCommand, 2);
    expect(ec2).toHaveReceivedNthSpecificCommandWith(2, DescribeSecurityGroupsCommand, { NextToken: 'groups-2', MaxResults: 5 });
    expect(ec2).toHaveReceivedCommandTimes(DescribeInstancesCommand, 2);
    expect(ec2).toHaveReceivedNthSpecificCommandWith(2, DescribeInstancesCommand, { NextToken: 'instances-2', MaxResults: 5 });
    expect(respond.mock.calls.map(([, options]) => options.idempotencyKey)).toEqual(EXPECTED_KEYS);
    expect(result).toMatchObject({ complete: true, scanned: { securityGroups: 3, instances: 5, pages: 4 } });
  });

  it('synthesizes sweep events the rules read as they read Config items: only the offending rule, launch-time facts', async () => {
    const { deps, respond } = await makeDeps();
    await runSweep(deps);
    const [groupEvent, keyEvent] = respond.mock.calls.map(([event]) => event);
    expect(groupEvent).toMatchObject({
      id: 'sweep:sg-rule:sg-0open:ingress:tcp:22-22:0.0.0.0/0',
      origin: 'sweep',
      accountId: OWNER,
      region: 'eu-west-1',
      change: { kind: 'config-item', resourceType: 'AWS::EC2::SecurityGroup', resourceId: 'sg-0open', addedRules: [{ direction: 'ingress', protocol: 'tcp', fromPort: 22, toPort: 22, cidrIpv4: '0.0.0.0/0' }] },
    });
    expect(keyEvent).toMatchObject({ change: { kind: 'config-item', resourceType: 'AWS::EC2::Instance', resourceId: 'i-0key', changeType: 'CREATE', keyName: 'ops', imageId: GOLDEN } });
  });

  it('hands on the same idempotency keys however often it runs', async () => {
    const { deps, respond } = await makeDeps();
    await runSweep(deps);
    await runSweep(deps);
    const keys = respond.mock.calls.map(([, options]) => options.idempotencyKey);
    expect(keys).toEqual([...EXPECTED_KEYS, ...EXPECTED_KEYS]);
  });

  it('turns an instance CloudFormation reports as MODIFIED into an untrusted instance change', async () => {
    const stackTags = [
      { Key: 'aws:cloudformation:stack-name', Value: 'web' },
      { Key: 'aws:cloudformation:logical-id', Value: 'WebInstance' },
    ];
    ec2.on(DescribeInstancesCommand).resolves({ Reservations: [{ OwnerId: OWNER, Instances: [instance('i-0web', { Tags: stackTags })] }] });
    ec2.on(DescribeSecurityGroupsCommand).resolves({ SecurityGroups: [] });
    cfn.on(DetectStackResourceDriftCommand).resolves({
      StackResourceDrift: {
        StackId: 's',
        LogicalResourceId: 'WebInstance',
        ResourceType: 'AWS::EC2::Instance',
        StackResourceDriftStatus: 'MODIFIED',
        Timestamp: NOW,
        PropertyDifferences: [{ PropertyPath: '/InstanceType', ExpectedValue: 't3.micro', ActualValue: 't3.large', DifferenceType: 'NOT_EQUAL' }],
      },
    });
    const { deps, respond } = await makeDeps();
    await runSweep(deps);

    expect(cfn).toHaveReceivedCommandWith(DetectStackResourceDriftCommand, { StackName: 'web', LogicalResourceId: 'WebInstance' });
    expect(respond).toHaveBeenCalledTimes(1);
    const [event, options] = respond.mock.calls[0];
    expect(options.idempotencyKey).toBe('sweep:instance:i-0web:contain');
    expect(event.actor).toEqual({ type: 'Unknown', name: DRIFT_ACTOR_NAME });
    expect(event.change).toMatchObject({ kind: 'instance-change', instanceIds: ['i-0web'] });
    expect(JSON.stringify(event.change)).toContain('/InstanceType: expected t3.micro, actual t3.large');
  });
});

describe('runSweep: acting once, with the real dedupe store', () => {
  /** The responder's dedupe, as respondToChangeEvent uses it: idempotency on the key, then violation claims. */
  function responderLike(tables: { idempotency: string; state: string }, client: ReturnType<typeof db.client>, acted: string[]) {
    const once = new EffectivelyOnce({ client, tableName: tables.idempotency });
    const claims = new ViolationClaims({ client, tableName: tables.state, now: () => NOW });
    return async (_event: ChangeEvent, options: { idempotencyKey: string }): Promise<RespondSummary> => {
      const outcome = await once.run(options.idempotencyKey, async () => {
        const keys = options.idempotencyKey.replace(/^sweep:/, '').split('+');
        const claim = await claims.claim(keys, options.idempotencyKey, 3600);
        acted.push(...claim.claimed);
        return { claimed: claim.claimed.length };
      });
      return { status: outcome.status };
    };
  }

  it('acts on nothing the second time it runs', async () => {
    const { deps, tables, client } = await makeDeps();
    const acted: string[] = [];
    deps.respond = responderLike(tables, client, acted);
    await runSweep(deps);
    const firstRun = [...acted];
    const second = await runSweep(deps);
    expect(firstRun).toEqual(EXPECTED_KEYS.map((k) => k.replace(/^sweep:/, '')));
    expect(acted).toEqual(firstRun);
    expect(second.violations.map((v) => v.response.status)).toEqual(['duplicate', 'duplicate', 'duplicate']);
  });

  it('acts on nothing a live event already claimed: the same violation key is claimed once', async () => {
    const { deps, tables, client } = await makeDeps();
    const claims = new ViolationClaims({ client, tableName: tables.state, now: () => NOW });
    const live = await claims.claim(['sg-rule:sg-0open:ingress:tcp:22-22:0.0.0.0/0'], 'live-cloudtrail-event-1', 3600);
    expect(live.claimed).toHaveLength(1);
    const acted: string[] = [];
    deps.respond = responderLike(tables, client, acted);
    await runSweep(deps);
    expect(acted).not.toContain('sg-rule:sg-0open:ingress:tcp:22-22:0.0.0.0/0');
    expect(acted).toEqual(['launch:i-0key:ssh-key-material', 'launch:i-0bad:unapproved-ami']);
  });
});

describe('runSweep: bounded in time, resumes where it stopped', () => {
  it('saves the cursor (region, kind, NextToken) when out of time, and the next run starts from that page', async () => {
    let budget = 3; // checks with time left before the run is cut short
    const { deps, respond } = await makeDeps({ remainingMs: () => (budget-- > 0 ? 1000 : 0) });
    const first = await runSweep(deps);
    expect(first.complete).toBe(false);
    expect(first.cursor).toEqual({ region: 'eu-west-1', kind: 'security-groups', nextToken: 'groups-2' });
    expect(respond).not.toHaveBeenCalled();

    ec2.resetHistory();
    deps.remainingMs = () => 60_000;
    const second = await runSweep(deps);
    expect(second.startedFrom).toEqual({ region: 'eu-west-1', kind: 'security-groups', nextToken: 'groups-2' });
    expect(ec2).toHaveReceivedNthSpecificCommandWith(1, DescribeSecurityGroupsCommand, { NextToken: 'groups-2' });
    expect(second.complete).toBe(true);
    expect(respond.mock.calls.map(([, o]) => o.idempotencyKey)).toEqual(EXPECTED_KEYS);

    ec2.resetHistory();
    const third = await runSweep(deps);
    expect(third.startedFrom).toBeUndefined();
    expect(ec2).toHaveReceivedNthSpecificCommandWith(1, DescribeSecurityGroupsCommand, { MaxResults: 5 });
  });
});

describe('runSweep: closing quarantines and sending summaries', () => {
  it('terminates a quarantined instance whose hold has passed after a confirmed replacement, once', async () => {
    ec2.on(DescribeInstancesCommand, { InstanceIds: ['i-0old'] }).resolves({ Reservations: [{ Instances: [{ InstanceId: 'i-0old', State: { Name: 'stopped' }, Tags: [{ Key: 'driftwarden:protection-set', Value: 'true' }] }] }] });
    ec2.on(DescribeInstanceAttributeCommand).resolves({ DisableApiTermination: { Value: true } });
    ec2.on(TerminateInstancesCommand).resolves({});
    const { deps } = await makeDeps();
    const ledger = deps.ledger as ReplacementLedger;
    await ledger.record({
      clientRequestToken: 'driftwarden-x',
      replacementToken: 'dw-x',
      findingId: 'instance-manual-change:e',
      eventId: 'e',
      instanceId: 'i-0old',
      stackName: 'web',
      accountId: OWNER,
      region: 'eu-west-1',
      holdSeconds: 60,
      force: false,
      quarantinedAt: '2026-03-01T10:00:00Z',
    });
    await ledger.markTerminationDue('driftwarden-x', { newInstanceId: 'i-0new', terminateAfter: new Date('2026-03-01T11:00:00Z') });

    const result = await runSweep(deps);
    await runSweep(deps);
    expect(result.terminations).toMatchObject([{ action: 'terminate', resource: 'i-0old', status: 'done' }]);
    expect(ec2).toHaveReceivedCommandTimes(TerminateInstancesCommand, 1);
    expect(ec2).toHaveReceivedCommandWith(TerminateInstancesCommand, { InstanceIds: ['i-0old'] });
    expect((await ledger.find('driftwarden-x'))?.status).toBe('terminated');
  });

  it('sends one summary alert per ended window with folded alerts, then marks it sent', async () => {
    const { deps } = await makeDeps();
    const pending = { accountId: OWNER, windowStart: '2026-03-01T11:00:00.000Z', windowEnd: '2026-03-01T11:05:00.000Z', sent: 20, suppressed: 3, summaries: ['one', 'two', 'three'], truncated: false };
    const markSummarised = jest.fn(async () => true);
    deps.alerts = { pendingSummaries: async () => [pending], markSummarised };
    const result = await runSweep(deps);

    expect(sns).toHaveReceivedCommandTimes(PublishCommand, 1);
    const input = sns.commandCalls(PublishCommand)[0].args[0].input;
    expect(input.MessageAttributes?.kind?.StringValue).toBe('summary');
    const email = JSON.parse(input.Message ?? '{}').email as string;
    expect(email).toContain('3 alert(s) were folded between 2026-03-01T11:00:00.000Z and 2026-03-01T11:05:00.000Z');
    expect(email).toContain('  - two');
    expect(markSummarised).toHaveBeenCalledWith(pending);
    expect(result.summaries).toEqual([{ accountId: OWNER, windowStart: '2026-03-01T11:00:00.000Z', suppressed: 3, sent: true }]);
  });
});
