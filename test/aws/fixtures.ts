/**
 * Hand-built, typed fixtures for the AWS-side tests: events, plans, steps, SDK mocks and a
 * recorder of every SDK call across every mocked client, in the order they were sent.
 */
import { AutoScalingClient } from '@aws-sdk/client-auto-scaling';
import { CloudFormationClient } from '@aws-sdk/client-cloudformation';
import { CloudTrailClient } from '@aws-sdk/client-cloudtrail';
import { ConfigServiceClient } from '@aws-sdk/client-config-service';
import { EC2Client, type Instance } from '@aws-sdk/client-ec2';
import { ElasticLoadBalancingV2Client } from '@aws-sdk/client-elastic-load-balancing-v2';
import { SNSClient } from '@aws-sdk/client-sns';
import { SSMClient } from '@aws-sdk/client-ssm';
import { mockClient } from 'aws-sdk-client-mock';
import type {
  DetachStep,
  IsolateInstanceStep,
  NotifyStep,
  Plan,
  ReplaceStep,
  RevokeRuleStep,
  SnapshotVolumesStep,
  Step,
  StepOutcome,
  TagStep,
  TerminateStep,
} from '../../functions/core/decision';
import type { ChangeEvent, Finding, SgRule } from '../../functions/core/model';
import { defaultPolicy } from '../../functions/core/policy/schema';
import { LazyAwsClients, type AwsClients } from '../../functions/aws/clients';
import type { StepContext } from '../../functions/aws/steps/context';

export const ACCOUNT = '111122223333';
export const REGION = 'eu-west-1';
export const VPC = 'vpc-0a1b2c3d';
export const INSTANCE = 'i-0123456789abcdef0';
export const ENI_PRIMARY = 'eni-0aaa0000000000001';
export const ENI_SECONDARY = 'eni-0bbb0000000000002';
export const VOL_ROOT = 'vol-0root000000000001';
export const VOL_DATA = 'vol-0data000000000002';
export const APP_SG = 'sg-0app0000000000001';
export const ADMIN_SG = 'sg-0adm0000000000002';
export const ISOLATION_SG = 'sg-0iso0000000000009';
export const UNTRACK_SG = 'sg-0unt0000000000008';
export const TOPIC = `arn:aws:sns:${REGION}:${ACCOUNT}:driftwarden-alerts`;
export const STACK = 'web-standalone';
export const STACK_ID = `arn:aws:cloudformation:${REGION}:${ACCOUNT}:stack/${STACK}/0f0e0d0c-aaaa-bbbb-cccc-000000000001`;
export const STACK_ROLE = `arn:aws:iam::${ACCOUNT}:role/web-stack-deployer`;
export const ASG = 'web-fleet';
export const EVENT_TIME = '2026-03-02T10:00:00.000Z';

/** The clock the executor reads: 4.2 s after the event. */
export const NOW = new Date('2026-03-02T10:00:04.200Z');
export const fixedNow = (): Date => new Date(NOW);
export const noSleep = async (_ms: number): Promise<void> => {};

export const SSH_WORLD: SgRule = {
  ruleId: 'sgr-0ssh000000000001',
  direction: 'ingress',
  protocol: 'tcp',
  fromPort: 22,
  toPort: 22,
  cidrIpv4: '0.0.0.0/0',
};

export function event(overrides: Partial<ChangeEvent> = {}): ChangeEvent {
  return {
    id: 'evt-0001',
    origin: 'cloudtrail',
    eventSource: 'ec2.amazonaws.com',
    eventName: 'AuthorizeSecurityGroupIngress',
    time: EVENT_TIME,
    accountId: ACCOUNT,
    region: REGION,
    actor: {
      type: 'AssumedRole',
      arn: `arn:aws:sts::${ACCOUNT}:assumed-role/Admin/mallory`,
      issuerArn: `arn:aws:iam::${ACCOUNT}:role/Admin`,
      name: 'Admin/mallory',
      accountId: ACCOUNT,
    },
    readOnly: false,
    resources: [{ type: 'security-group', id: ADMIN_SG }],
    change: { kind: 'security-group', groupId: ADMIN_SG, operation: 'authorize', rules: [SSH_WORLD] },
    raw: {},
    ...overrides,
  };
}

export function finding(overrides: Partial<Finding> = {}): Finding {
  return {
    id: 'admin-port-open-to-world:evt-0001',
    rule: 'admin-port-open-to-world',
    severity: 'CRITICAL',
    summary: `SSH (22/tcp) opened to 0.0.0.0/0 on ${ADMIN_SG}`,
    resources: [{ type: 'security-group', id: ADMIN_SG }],
    ...overrides,
  };
}

export function plan(steps: Step[], overrides: Partial<Plan> = {}): Plan {
  return {
    key: 'evt-0001',
    eventId: 'evt-0001',
    decision: 'contain',
    mode: 'contain',
    severity: 'CRITICAL',
    findings: [finding()],
    notConfigured: [],
    steps,
    dryRun: false,
    humanActions: [],
    warnings: [],
    resources: [{ type: 'security-group', id: ADMIN_SG }],
    ...overrides,
  };
}

const FINDING = 'instance-manual-change:evt-0002';

export const steps = {
  revoke: (rules: SgRule[] = [SSH_WORLD], groupId = ADMIN_SG): RevokeRuleStep => ({
    action: 'revoke-rule',
    resource: groupId,
    reason: 'admin port opened to the world',
    findingId: 'admin-port-open-to-world:evt-0001',
    rules,
  }),
  isolate: (overrides: Partial<IsolateInstanceStep> = {}): IsolateInstanceStep => ({
    action: 'isolate-instance',
    resource: INSTANCE,
    reason: 'changed by hand',
    findingId: FINDING,
    vpcId: VPC,
    networkInterfaces: [
      { networkInterfaceId: ENI_PRIMARY, groups: [APP_SG] },
      { networkInterfaceId: ENI_SECONDARY, groups: [APP_SG, ADMIN_SG] },
    ],
    forensicHold: true,
    ...overrides,
  }),
  snapshot: (volumeIds: string[] = [VOL_ROOT, VOL_DATA]): SnapshotVolumesStep => ({
    action: 'snapshot-volumes',
    resource: INSTANCE,
    reason: 'evidence',
    findingId: FINDING,
    volumeIds,
  }),
  tag: (): TagStep => ({ action: 'tag', resource: INSTANCE, reason: 'changed by hand', findingId: FINDING, tags: {} }),
  detach: (overrides: Partial<DetachStep> = {}): DetachStep => ({
    action: 'detach',
    resource: INSTANCE,
    reason: 'out of service',
    findingId: FINDING,
    targetGroupArns: [],
    ...overrides,
  }),
  notify: (): NotifyStep => ({ action: 'notify', resource: INSTANCE, reason: 'alert', findingId: FINDING, severity: 'HIGH' }),
  replaceStack: (overrides: Partial<ReplaceStep> = {}): ReplaceStep => ({
    action: 'replace',
    resource: INSTANCE,
    reason: 'replace from the source of truth',
    findingId: FINDING,
    via: 'stack',
    stackName: STACK,
    clientRequestToken: 'driftwarden-evt-0002',
    ...overrides,
  }),
  replaceAsg: (): ReplaceStep => ({
    action: 'replace',
    resource: INSTANCE,
    reason: 'replaced by its group',
    findingId: FINDING,
    via: 'auto-scaling-group',
    autoScalingGroup: ASG,
  }),
  terminate: (overrides: Partial<TerminateStep> = {}): TerminateStep => ({
    action: 'terminate',
    resource: INSTANCE,
    reason: 'tainted',
    findingId: FINDING,
    when: 'after-replacement',
    holdSeconds: 86400,
    force: false,
    ...overrides,
  }),
};

export const INSTANCE_FINDING_ID = FINDING;

/** A DescribeInstances instance with two interfaces and two volumes. */
export function instance(overrides: Partial<Instance> = {}, tags: Record<string, string> = {}): Instance {
  return {
    InstanceId: INSTANCE,
    State: { Name: 'running', Code: 16 },
    ImageId: 'ami-0123456789abcdef0',
    VpcId: VPC,
    SubnetId: 'subnet-0a',
    NetworkInterfaces: [
      { NetworkInterfaceId: ENI_PRIMARY, Groups: [{ GroupId: APP_SG }], Attachment: { DeviceIndex: 0 } },
      { NetworkInterfaceId: ENI_SECONDARY, Groups: [{ GroupId: APP_SG }, { GroupId: ADMIN_SG }], Attachment: { DeviceIndex: 1 } },
    ],
    BlockDeviceMappings: [
      { DeviceName: '/dev/xvda', Ebs: { VolumeId: VOL_ROOT } },
      { DeviceName: '/dev/xvdb', Ebs: { VolumeId: VOL_DATA } },
    ],
    Tags: Object.entries(tags).map(([Key, Value]) => ({ Key, Value })),
    ...overrides,
  };
}

/** An AWS service error as the SDK throws it: `name` is the error code. */
export function awsError(name: string, message = name): Error {
  const err = new Error(message);
  err.name = name;
  return Object.assign(err, { $fault: 'client', $metadata: { httpStatusCode: 400 } });
}

export function mocks() {
  return {
    ec2: mockClient(EC2Client),
    autoScaling: mockClient(AutoScalingClient),
    elbv2: mockClient(ElasticLoadBalancingV2Client),
    cloudFormation: mockClient(CloudFormationClient),
    sns: mockClient(SNSClient),
    ssm: mockClient(SSMClient),
    cloudTrail: mockClient(CloudTrailClient),
    configService: mockClient(ConfigServiceClient),
  };
}
export type Mocks = ReturnType<typeof mocks>;

/** Real clients (their `send` is replaced by the mocks); maxAttempts 1 so nothing waits. */
export function testClients(): AwsClients {
  return new LazyAwsClients({ region: REGION, maxAttempts: 1, retryMode: 'standard', credentials: async () => ({ accessKeyId: 'test', secretAccessKey: 'test' }) });
}

export interface SentCall {
  client: string;
  command: string;
  input: Record<string, unknown>;
}

/** Every call sent to any mocked client, in the order it was sent (sinon's global call ids). */
export function sentCalls(m: Mocks): SentCall[] {
  const all: { id: number; call: SentCall }[] = [];
  for (const [client, mock] of Object.entries(m)) {
    for (const call of mock.calls()) {
      const command = call.args[0] as unknown as { constructor: { name: string }; input: Record<string, unknown> };
      all.push({ id: (call as unknown as { callId: number }).callId, call: { client, command: command.constructor.name, input: command.input } });
    }
  }
  return all.sort((a, b) => a.id - b.id).map((c) => c.call);
}

export function commandNames(m: Mocks): string[] {
  return sentCalls(m).map((c) => c.command);
}

export function stepContext(clients: AwsClients, p: Plan, overrides: Partial<StepContext> = {}): StepContext {
  return { clients, event: event(), plan: p, policy: defaultPolicy(), now: fixedNow, sleep: noSleep, outcomes: [], topicArn: TOPIC, ...overrides };
}

export function outcomeOf(outcomes: StepOutcome[], action: StepOutcome['action']): StepOutcome {
  const found = outcomes.find((o) => o.action === action);
  if (!found) throw new Error(`no ${action} outcome in ${JSON.stringify(outcomes)}`);
  return found;
}

import {
  AuthorizeSecurityGroupEgressCommand,
  AuthorizeSecurityGroupIngressCommand,
  CreateSecurityGroupCommand,
  CreateSnapshotCommand,
  CreateTagsCommand,
  DescribeInstanceAttributeCommand,
  DescribeInstancesCommand,
  DescribeSecurityGroupRulesCommand,
  DescribeSecurityGroupsCommand,
  DescribeSnapshotsCommand,
  ModifyInstanceAttributeCommand,
  ModifyNetworkInterfaceAttributeCommand,
  RevokeSecurityGroupEgressCommand,
  RevokeSecurityGroupIngressCommand,
  type SecurityGroupRule,
} from '@aws-sdk/client-ec2';

export interface Ec2WorldOptions {
  /** Whether the isolation / allow-all groups exist already. Default false. */
  isolationExists?: boolean;
  untrackExists?: boolean;
  /** Rules already on the isolation group (a spoofed one, say). */
  isolationRules?: SecurityGroupRule[];
  instance?: Instance;
  terminationProtection?: boolean;
  shutdownBehavior?: string;
}

/**
 * A small stateful EC2: the two driftwarden groups (created on demand, a new group gets
 * AWS's default egress rule), their rules, one instance and its attributes.
 */
export function ec2World(m: Mocks, opts: Ec2WorldOptions = {}) {
  const groups = new Map<string, { id: string; name: string; rules: SecurityGroupRule[] }>();
  const defaultEgress = (groupId: string): SecurityGroupRule => ({
    SecurityGroupRuleId: `sgr-default-${groupId}`,
    GroupId: groupId,
    IsEgress: true,
    IpProtocol: '-1',
    CidrIpv4: '0.0.0.0/0',
  });
  if (opts.isolationExists) groups.set(`driftwarden-isolation-${VPC}`, { id: ISOLATION_SG, name: `driftwarden-isolation-${VPC}`, rules: opts.isolationRules ?? [] });
  if (opts.untrackExists) {
    groups.set(`driftwarden-untrack-${VPC}`, {
      id: UNTRACK_SG,
      name: `driftwarden-untrack-${VPC}`,
      rules: [
        { SecurityGroupRuleId: 'sgr-u1', GroupId: UNTRACK_SG, IsEgress: false, IpProtocol: '-1', CidrIpv4: '0.0.0.0/0' },
        { SecurityGroupRuleId: 'sgr-u2', GroupId: UNTRACK_SG, IsEgress: false, IpProtocol: '-1', CidrIpv6: '::/0' },
        { SecurityGroupRuleId: 'sgr-u3', GroupId: UNTRACK_SG, IsEgress: true, IpProtocol: '-1', CidrIpv4: '0.0.0.0/0' },
        { SecurityGroupRuleId: 'sgr-u4', GroupId: UNTRACK_SG, IsEgress: true, IpProtocol: '-1', CidrIpv6: '::/0' },
      ],
    });
  }
  const byId = (id: string) => [...groups.values()].find((g) => g.id === id);
  let current = opts.instance ?? instance();

  m.ec2.on(DescribeInstancesCommand).callsFake(() => ({ Reservations: [{ Instances: [current] }] }));
  m.ec2.on(DescribeInstanceAttributeCommand).callsFake((input: { Attribute: string }) =>
    input.Attribute === 'disableApiTermination'
      ? { DisableApiTermination: { Value: opts.terminationProtection ?? false } }
      : { InstanceInitiatedShutdownBehavior: { Value: opts.shutdownBehavior ?? 'terminate' } },
  );
  m.ec2.on(DescribeSecurityGroupsCommand).callsFake((input: { Filters?: { Name: string; Values: string[] }[] }) => {
    const name = input.Filters?.find((f) => f.Name === 'group-name')?.Values[0] ?? '';
    const g = groups.get(name);
    return { SecurityGroups: g ? [{ GroupId: g.id, GroupName: g.name, VpcId: VPC, Tags: [{ Key: name.includes('isolation') ? 'driftwarden:isolation' : 'driftwarden:untrack', Value: 'true' }] }] : [] };
  });
  m.ec2.on(CreateSecurityGroupCommand).callsFake((input: { GroupName: string }) => {
    const id = input.GroupName.includes('isolation') ? ISOLATION_SG : UNTRACK_SG;
    groups.set(input.GroupName, { id, name: input.GroupName, rules: [defaultEgress(id)] });
    return { GroupId: id };
  });
  m.ec2.on(DescribeSecurityGroupRulesCommand).callsFake((input: { Filters: { Values: string[] }[] }) => ({
    SecurityGroupRules: byId(input.Filters[0]!.Values[0]!)?.rules ?? [],
  }));
  const revoke = (input: { GroupId: string; SecurityGroupRuleIds?: string[] }) => {
    const g = byId(input.GroupId);
    if (g) g.rules = g.rules.filter((r) => !input.SecurityGroupRuleIds?.includes(r.SecurityGroupRuleId!));
    return { Return: true };
  };
  m.ec2.on(RevokeSecurityGroupIngressCommand).callsFake(revoke);
  m.ec2.on(RevokeSecurityGroupEgressCommand).callsFake(revoke);
  const authorize = (egress: boolean) => (input: { GroupId: string; IpPermissions: { IpRanges?: { CidrIp: string }[]; Ipv6Ranges?: { CidrIpv6: string }[] }[] }) => {
    const g = byId(input.GroupId)!;
    for (const p of input.IpPermissions) {
      for (const r of p.IpRanges ?? []) g.rules.push({ SecurityGroupRuleId: `sgr-${g.rules.length}`, GroupId: g.id, IsEgress: egress, IpProtocol: '-1', CidrIpv4: r.CidrIp });
      for (const r of p.Ipv6Ranges ?? []) g.rules.push({ SecurityGroupRuleId: `sgr-${g.rules.length}`, GroupId: g.id, IsEgress: egress, IpProtocol: '-1', CidrIpv6: r.CidrIpv6 });
    }
    return { Return: true };
  };
  m.ec2.on(AuthorizeSecurityGroupIngressCommand).callsFake(authorize(false));
  m.ec2.on(AuthorizeSecurityGroupEgressCommand).callsFake(authorize(true));
  m.ec2.on(ModifyNetworkInterfaceAttributeCommand).callsFake((input: { NetworkInterfaceId: string; Groups: string[] }) => {
    current = {
      ...current,
      NetworkInterfaces: current.NetworkInterfaces!.map((n) => (n.NetworkInterfaceId === input.NetworkInterfaceId ? { ...n, Groups: input.Groups.map((GroupId) => ({ GroupId })) } : n)),
    };
    return {};
  });
  m.ec2.on(CreateTagsCommand).callsFake((input: { Resources: string[]; Tags: { Key: string; Value: string }[] }) => {
    if (input.Resources.includes(current.InstanceId!)) {
      const tags = new Map((current.Tags ?? []).map((t) => [t.Key!, t.Value!]));
      for (const t of input.Tags) tags.set(t.Key, t.Value);
      current = { ...current, Tags: [...tags].map(([Key, Value]) => ({ Key, Value })) };
    }
    return {};
  });
  m.ec2.on(ModifyInstanceAttributeCommand).resolves({});
  m.ec2.on(DescribeSnapshotsCommand).resolves({ Snapshots: [] });
  m.ec2.on(CreateSnapshotCommand).callsFake((input: { VolumeId: string }) => ({ SnapshotId: `snap-of-${input.VolumeId}` }));
  return {
    groups,
    instance: () => current,
  };
}
