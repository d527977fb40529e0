/**
 * The responder harness: real `ResponderDeps` around aws-sdk-client-mock mocks of every client,
 * the REAL AwsContextReader reading a small stateful "account" built from
 * events/account-snapshot.json, the sample policy events/policy.yaml, a fixed clock, no sleep,
 * a silent logger and a namespaced Metrics instance.
 *
 * State: in-memory fakes of the narrow `ResponderState` (same semantics as the DynamoDB classes:
 * once per key with in-progress/complete records, claims that only their holder may renew or
 * release, an all-or-nothing windowed limiter with exactly one first denial, a windowed alert
 * counter, an append-only audit list), or any real state the test hands in (dynalite).
 *
 * The account answers every read consistently with the snapshot and remembers every write
 * (tags, interface groups, attributes, detaches, stack updates), so that a later event sees what
 * driftwarden did, as it would in AWS.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { Logger } from '@aws-lambda-powertools/logger';
import { Metrics } from '@aws-lambda-powertools/metrics';
import { DescribeAutoScalingInstancesCommand, DetachInstancesCommand } from '@aws-sdk/client-auto-scaling';
import { DescribeStacksCommand, DetectStackResourceDriftCommand, UpdateStackCommand } from '@aws-sdk/client-cloudformation';
import { LookupEventsCommand } from '@aws-sdk/client-cloudtrail';
import {
  AuthorizeSecurityGroupEgressCommand,
  AuthorizeSecurityGroupIngressCommand,
  CreateSecurityGroupCommand,
  CreateSnapshotCommand,
  CreateTagsCommand,
  DescribeImagesCommand,
  DescribeInstanceAttributeCommand,
  DescribeInstancesCommand,
  DescribeSecurityGroupRulesCommand,
  DescribeSecurityGroupsCommand,
  DescribeSnapshotsCommand,
  ModifyInstanceAttributeCommand,
  ModifyNetworkInterfaceAttributeCommand,
  RevokeSecurityGroupEgressCommand,
  RevokeSecurityGroupIngressCommand,
  TerminateInstancesCommand,
  type Instance,
  type SecurityGroupRule,
} from '@aws-sdk/client-ec2';
import { DeregisterTargetsCommand, DescribeTargetGroupsCommand, DescribeTargetHealthCommand } from '@aws-sdk/client-elastic-load-balancing-v2';
import { PublishCommand } from '@aws-sdk/client-sns';
import { GetParameterCommand, GetParametersByPathCommand } from '@aws-sdk/client-ssm';
import type { Plan, StepOutcome } from '../../functions/core/decision';
import type { ChangeEvent } from '../../functions/core/model';
import { loadPolicyFile } from '../../functions/core/policy/load';
import type { Policy } from '../../functions/core/policy/schema';
import { AwsContextReader } from '../../functions/aws/context-reader';
import { confirmInstanceDrift } from '../../functions/aws/drift';
import { MUTATING_COMMANDS } from '../../functions/aws/iam';
import { readKillSwitch } from '../../functions/aws/state/kill-switch';
import { applyDeploymentSettings, type ResponderConfig } from '../../functions/responder/config';
import { respond, type ReplacementRecord, type ResponderDeps, type ResponderState, type ResponseSummary } from '../../functions/responder/respond';
import { mocks, sentCalls, testClients, type Mocks, type SentCall } from '../aws/fixtures';

// Metrics stay in memory (no EMF lines on stdout); publishStoredMetrics still runs its checks.
process.env.POWERTOOLS_METRICS_DISABLED = 'true';

export const ROOT = join(__dirname, '..', '..');
export const EVENTS = join(ROOT, 'events');
export const ACCOUNT = '111122223333';
export const REGION = 'eu-west-1';
export const TOPIC = `arn:aws:sns:${REGION}:${ACCOUNT}:driftwarden-alerts`;
/** 09:20 on the samples' day: after every sample, inside the approved AMIs' maximum age. */
export const NOW = new Date('2026-11-20T09:20:00.000Z');
export const VPC = 'vpc-0a1b2c3d4e5f60000';
export const ISOLATION_SG = 'sg-0d0d0d0d0d0d0d0a1';
export const UNTRACK_SG = 'sg-0d0d0d0d0d0d0d0b2';

export const SAMPLES = {
  ssh: 'positive/admin-port-ssh-open-to-world.json',
  sshShorthand: 'positive/admin-port-ssh-cli-shorthand.json',
  sshConfig: 'positive/admin-port-config-security-group-item.json',
  stackInstance: 'positive/instance-manual-change-instance-type-on-stack-instance.json',
  asgMember: 'positive/instance-manual-change-security-groups-on-auto-scaling-member.json',
  unapprovedAmi: 'positive/unapproved-ami-run-instances-from-launch-template.json',
} as const;

export const INSTANCES = {
  stack: 'i-0a1b2c3d4e5f60001',
  asg: 'i-0a1b2c3d4e5f60002',
  unapproved: 'i-0a1b2c3d4e5f60003',
  keyed: 'i-0a1b2c3d4e5f60004',
} as const;

/** One sample event file, parsed. */
export function sample(name: string): Record<string, unknown> {
  return JSON.parse(readFileSync(join(EVENTS, name), 'utf8')) as Record<string, unknown>;
}

export function positiveSamples(): string[] {
  return Object.keys(JSON.parse(readFileSync(join(EVENTS, 'expected.json'), 'utf8')) as Record<string, unknown>)
    .filter((name) => name.startsWith('positive/'))
    .sort();
}

export function samplePolicy(): Policy {
  return loadPolicyFile(join(EVENTS, 'policy.yaml'));
}

// ---------------------------------------------------------------------------------------------
// The account snapshot, as the AWS API would describe it.

export interface SnapshotInstance {
  instanceId: string;
  state?: string;
  imageId?: string;
  keyName?: string;
  vpcId?: string;
  subnetId?: string;
  launchTime?: string;
  tags?: Record<string, string>;
  networkInterfaces?: { networkInterfaceId: string; groups?: string[]; deviceIndex?: number }[];
  volumes?: { volumeId: string; deviceName?: string }[];
  targetGroups?: string[];
  terminationProtection?: boolean;
  shutdownBehavior?: string;
  iamInstanceProfileArn?: string;
}

export interface AccountSnapshot {
  instances: SnapshotInstance[];
  securityGroups: { groupId: string; groupName?: string; vpcId?: string; tags?: Record<string, string> }[];
  images: { imageId: string; ownerId?: string; creationDate?: string; name?: string }[];
  ssmParameters: Record<string, string>;
  tagWriters: Record<string, Record<string, { arn: string; time: string }>>;
}

export function loadSnapshot(): AccountSnapshot {
  return JSON.parse(readFileSync(join(EVENTS, 'account-snapshot.json'), 'utf8')) as AccountSnapshot;
}

const toTags = (tags: Record<string, string> = {}) => Object.entries(tags).map(([Key, Value]) => ({ Key, Value }));

/** A snapshot instance as DescribeInstances describes it (what AwsContextReader and the steps read). */
export function toEc2Instance(s: SnapshotInstance): Instance {
  return {
    InstanceId: s.instanceId,
    State: { Name: (s.state ?? 'running') as 'running', Code: s.state === 'terminated' ? 48 : 16 },
    ...(s.imageId ? { ImageId: s.imageId } : {}),
    ...(s.keyName ? { KeyName: s.keyName } : {}),
    ...(s.vpcId ? { VpcId: s.vpcId } : {}),
    ...(s.subnetId ? { SubnetId: s.subnetId } : {}),
    ...(s.launchTime ? { LaunchTime: new Date(s.launchTime) } : {}),
    ...(s.iamInstanceProfileArn ? { IamInstanceProfile: { Arn: s.iamInstanceProfileArn } } : {}),
    Tags: toTags(s.tags),
    NetworkInterfaces: (s.networkInterfaces ?? []).map((n) => ({
      NetworkInterfaceId: n.networkInterfaceId,
      Groups: (n.groups ?? []).map((GroupId) => ({ GroupId })),
      ...(n.deviceIndex !== undefined ? { Attachment: { DeviceIndex: n.deviceIndex } } : {}),
    })),
    BlockDeviceMappings: (s.volumes ?? []).map((v) => ({ ...(v.deviceName ? { DeviceName: v.deviceName } : {}), Ebs: { VolumeId: v.volumeId } })),
  };
}

/** DescribeInstances' answer for some instance ids (InvalidInstanceID.NotFound when one is unknown, as EC2 does). */
export function describeInstancesResponse(instances: SnapshotInstance[], ids: string[]) {
  const found = ids.map((id) => instances.find((i) => i.instanceId === id));
  if (found.some((i) => i === undefined)) throw awsError('InvalidInstanceID.NotFound', `The instance ID '${ids.join(', ')}' does not exist`);
  return { Reservations: found.map((i) => ({ Instances: [toEc2Instance(i!)] })) };
}

// ---------------------------------------------------------------------------------------------
// Errors as the SDK throws them.

export function awsError(name: string, message = name, httpStatusCode = 400): Error {
  const err = new Error(message);
  err.name = name;
  return Object.assign(err, {
    $fault: httpStatusCode >= 500 ? 'server' : 'client',
    $metadata: { httpStatusCode, attempts: 1 },
    ...(name === 'ThrottlingException' || name === 'RequestLimitExceeded' ? { $retryable: { throttling: true } } : {}),
  });
}

// ---------------------------------------------------------------------------------------------
// The account.

interface Stack {
  name: string;
  id: string;
  status: string;
  parameters: { ParameterKey: string; ParameterValue: string }[];
  roleArn?: string;
}

export interface AccountOptions {
  /** Whether driftwarden's isolation and allow-all groups exist already in the VPC. Default true. */
  isolationGroupsExist?: boolean;
  /** Replace the snapshot's SSM parameters (the kill switch lives there). */
  ssmParameters?: Record<string, string>;
  /** Extra instances beyond the snapshot's (synthesized events). */
  extraInstances?: SnapshotInstance[];
}

/** Wires every mock to answer like the account in the snapshot; returns the live state. */
export function account(m: Mocks, options: AccountOptions = {}) {
  const snap = loadSnapshot();
  const instances: SnapshotInstance[] = structuredClone([...snap.instances, ...(options.extraInstances ?? [])]);
  const groups = structuredClone(snap.securityGroups) as (AccountSnapshot['securityGroups'][number] & { rules?: SecurityGroupRule[] })[];
  const ssm = { ...snap.ssmParameters, ...(options.ssmParameters ?? {}) };
  if (options.isolationGroupsExist ?? true) {
    groups.push({ groupId: ISOLATION_SG, groupName: `driftwarden-isolation-${VPC}`, vpcId: VPC, tags: { 'driftwarden:isolation': 'true' }, rules: [] });
    groups.push({
      groupId: UNTRACK_SG,
      groupName: `driftwarden-untrack-${VPC}`,
      vpcId: VPC,
      tags: { 'driftwarden:untrack': 'true' },
      rules: [false, true].flatMap((IsEgress) => [
        { SecurityGroupRuleId: `sgr-untrack-${IsEgress ? 'e' : 'i'}4`, GroupId: UNTRACK_SG, IsEgress, IpProtocol: '-1', CidrIpv4: '0.0.0.0/0' },
        { SecurityGroupRuleId: `sgr-untrack-${IsEgress ? 'e' : 'i'}6`, GroupId: UNTRACK_SG, IsEgress, IpProtocol: '-1', CidrIpv6: '::/0' },
      ]),
    });
  }
  const stacks = new Map<string, Stack>();
  for (const i of instances) {
    const name = i.tags?.['aws:cloudformation:stack-name'];
    const id = i.tags?.['aws:cloudformation:stack-id'];
    if (name && id && !stacks.has(name)) {
      stacks.set(name, {
        name,
        id,
        status: 'UPDATE_COMPLETE',
        parameters: [
          { ParameterKey: 'DriftwardenReplacementToken', ParameterValue: 'initial' },
          { ParameterKey: 'InstanceType', ParameterValue: 't3.micro' },
        ],
        roleArn: `arn:aws:iam::${ACCOUNT}:role/cfn-service-role`,
      });
    }
  }
  const registrations = new Map<string, Set<string>>();
  for (const i of instances) for (const tg of i.targetGroups ?? []) (registrations.get(tg) ?? registrations.set(tg, new Set()).get(tg)!).add(i.instanceId);
  const asgMembers = new Map(instances.filter((i) => i.tags?.['aws:autoscaling:groupName']).map((i) => [i.instanceId, i.tags!['aws:autoscaling:groupName']!]));
  const instance = (id: string) => instances.find((i) => i.instanceId === id);
  let published = 0;
  let snapshots = 0;

  // EC2 reads
  m.ec2.on(DescribeInstancesCommand).callsFake((input: { InstanceIds?: string[] }) => describeInstancesResponse(instances, input.InstanceIds ?? []));
  m.ec2.on(DescribeInstanceAttributeCommand).callsFake((input: { InstanceId: string; Attribute: string }) => {
    const i = instance(input.InstanceId);
    if (!i) throw awsError('InvalidInstanceID.NotFound');
    return input.Attribute === 'disableApiTermination'
      ? { InstanceId: i.instanceId, DisableApiTermination: { Value: i.terminationProtection ?? false } }
      : { InstanceId: i.instanceId, InstanceInitiatedShutdownBehavior: { Value: i.shutdownBehavior ?? 'stop' } };
  });
  m.ec2.on(DescribeSecurityGroupsCommand).callsFake((input: { GroupIds?: string[]; Filters?: { Name: string; Values: string[] }[] }) => {
    const describe = (g: (typeof groups)[number]) => ({ GroupId: g.groupId, GroupName: g.groupName, VpcId: g.vpcId, Tags: toTags(g.tags) });
    if (input.GroupIds) {
      const found = input.GroupIds.map((id) => groups.find((g) => g.groupId === id));
      if (found.some((g) => !g)) throw awsError('InvalidGroup.NotFound', `The security group '${input.GroupIds.join(',')}' does not exist`);
      return { SecurityGroups: found.map((g) => describe(g!)) };
    }
    const name = input.Filters?.find((f) => f.Name === 'group-name')?.Values[0];
    const vpc = input.Filters?.find((f) => f.Name === 'vpc-id')?.Values[0];
    return { SecurityGroups: groups.filter((g) => g.groupName === name && g.vpcId === vpc).map(describe) };
  });
  m.ec2.on(DescribeSecurityGroupRulesCommand).callsFake((input: { Filters?: { Name: string; Values: string[] }[] }) => ({
    SecurityGroupRules: groups.find((g) => g.groupId === input.Filters?.[0]?.Values[0])?.rules ?? [],
  }));
  m.ec2.on(DescribeImagesCommand).callsFake((input: { ImageIds?: string[] }) => {
    const images = snap.images.filter((i) => input.ImageIds?.includes(i.imageId));
    if (images.length < (input.ImageIds ?? []).length) throw awsError('InvalidAMIID.NotFound');
    return { Images: images.map((i) => ({ ImageId: i.imageId, OwnerId: i.ownerId, CreationDate: i.creationDate, Name: i.name })) };
  });
  m.ec2.on(DescribeSnapshotsCommand).resolves({ Snapshots: [] });

  // EC2 writes
  m.ec2.on(CreateSecurityGroupCommand).callsFake((input: { GroupName: string; VpcId: string }) => {
    const id = input.GroupName.startsWith('driftwarden-isolation') ? ISOLATION_SG : UNTRACK_SG;
    groups.push({ groupId: id, groupName: input.GroupName, vpcId: input.VpcId, tags: {}, rules: [{ SecurityGroupRuleId: `sgr-default-${id}`, GroupId: id, IsEgress: true, IpProtocol: '-1', CidrIpv4: '0.0.0.0/0' }] });
    return { GroupId: id };
  });
  const revoke = (input: { GroupId: string; SecurityGroupRuleIds?: string[] }) => {
    const g = groups.find((x) => x.groupId === input.GroupId);
    if (g?.rules && input.SecurityGroupRuleIds) g.rules = g.rules.filter((r) => !input.SecurityGroupRuleIds!.includes(r.SecurityGroupRuleId!));
    return { Return: true, ...(input.SecurityGroupRuleIds ? { RevokedSecurityGroupRules: input.SecurityGroupRuleIds.map((SecurityGroupRuleId) => ({ SecurityGroupRuleId, GroupId: input.GroupId })) } : {}) };
  };
  m.ec2.on(RevokeSecurityGroupIngressCommand).callsFake(revoke);
  m.ec2.on(RevokeSecurityGroupEgressCommand).callsFake(revoke);
  const authorize = (IsEgress: boolean) => (input: { GroupId: string; IpPermissions: { IpRanges?: { CidrIp: string }[]; Ipv6Ranges?: { CidrIpv6: string }[] }[] }) => {
    const g = groups.find((x) => x.groupId === input.GroupId);
    for (const p of input.IpPermissions) {
      for (const r of p.IpRanges ?? []) g?.rules?.push({ SecurityGroupRuleId: `sgr-${g.rules.length}`, GroupId: g.groupId, IsEgress, IpProtocol: '-1', CidrIpv4: r.CidrIp });
      for (const r of p.Ipv6Ranges ?? []) g?.rules?.push({ SecurityGroupRuleId: `sgr-${g.rules.length}`, GroupId: g.groupId, IsEgress, IpProtocol: '-1', CidrIpv6: r.CidrIpv6 });
    }
    return { Return: true };
  };
  m.ec2.on(AuthorizeSecurityGroupIngressCommand).callsFake(authorize(false));
  m.ec2.on(AuthorizeSecurityGroupEgressCommand).callsFake(authorize(true));
  m.ec2.on(CreateTagsCommand).callsFake((input: { Resources: string[]; Tags: { Key: string; Value?: string }[] }) => {
    for (const id of input.Resources) {
      const target = instance(id) ?? groups.find((g) => g.groupId === id);
      if (!target) throw awsError(id.startsWith('i-') ? 'InvalidInstanceID.NotFound' : 'InvalidID');
      target.tags = { ...(target.tags ?? {}), ...Object.fromEntries(input.Tags.map((t) => [t.Key, t.Value ?? ''])) };
    }
    return {};
  });
  m.ec2.on(ModifyNetworkInterfaceAttributeCommand).callsFake((input: { NetworkInterfaceId: string; Groups: string[] }) => {
    const eni = instances.flatMap((i) => i.networkInterfaces ?? []).find((n) => n.networkInterfaceId === input.NetworkInterfaceId);
    if (!eni) throw awsError('InvalidNetworkInterfaceID.NotFound');
    eni.groups = [...input.Groups];
    return {};
  });
  m.ec2.on(ModifyInstanceAttributeCommand).callsFake((input: { InstanceId: string; DisableApiTermination?: { Value: boolean }; InstanceInitiatedShutdownBehavior?: { Value: string } }) => {
    const i = instance(input.InstanceId);
    if (!i) throw awsError('InvalidInstanceID.NotFound');
    if (input.DisableApiTermination) i.terminationProtection = input.DisableApiTermination.Value;
    if (input.InstanceInitiatedShutdownBehavior) i.shutdownBehavior = input.InstanceInitiatedShutdownBehavior.Value;
    return {};
  });
  m.ec2.on(CreateSnapshotCommand).callsFake((input: { VolumeId: string }) => ({ SnapshotId: `snap-0${String(++snapshots).padStart(16, '0')}`, VolumeId: input.VolumeId, State: 'pending' }));
  m.ec2.on(TerminateInstancesCommand).callsFake((input: { InstanceIds: string[] }) => {
    for (const id of input.InstanceIds) {
      const i = instance(id);
      if (!i) throw awsError('InvalidInstanceID.NotFound');
      i.state = 'shutting-down';
    }
    return {};
  });

  // SSM, CloudTrail
  m.ssm.on(GetParameterCommand).callsFake((input: { Name: string }) => {
    if (ssm[input.Name] === undefined) throw awsError('ParameterNotFound', `Parameter ${input.Name} not found.`);
    return { Parameter: { Name: input.Name, Type: 'String', Value: ssm[input.Name] } };
  });
  m.ssm.on(GetParametersByPathCommand).callsFake((input: { Path: string }) => ({
    Parameters: Object.entries(ssm)
      .filter(([name]) => name.startsWith(input.Path))
      .map(([Name, Value]) => ({ Name, Type: 'String', Value })),
  }));
  m.cloudTrail.on(LookupEventsCommand).callsFake((input: { LookupAttributes?: { AttributeValue?: string }[] }) => {
    const resourceId = input.LookupAttributes?.[0]?.AttributeValue ?? '';
    const writers = snap.tagWriters[resourceId] ?? {};
    return {
      Events: Object.entries(writers).map(([key, w]) => ({
        EventName: 'CreateTags',
        EventTime: new Date(w.time),
        CloudTrailEvent: JSON.stringify({
          eventTime: w.time,
          eventName: 'CreateTags',
          userIdentity: { type: 'AssumedRole', arn: w.arn, sessionContext: { sessionIssuer: { arn: w.arn } } },
          requestParameters: { resourcesSet: { items: [{ resourceId }] }, tagSet: { items: [{ key, value: 'x' }] } },
        }),
      })),
    };
  });

  // Auto Scaling, ELBv2
  m.autoScaling.on(DescribeAutoScalingInstancesCommand).callsFake((input: { InstanceIds?: string[] }) => ({
    AutoScalingInstances: (input.InstanceIds ?? [])
      .filter((id) => asgMembers.has(id))
      .map((InstanceId) => ({ InstanceId, AutoScalingGroupName: asgMembers.get(InstanceId), LifecycleState: 'InService', HealthStatus: 'HEALTHY', AvailabilityZone: 'eu-west-1a', ProtectedFromScaleIn: false })),
  }));
  m.autoScaling.on(DetachInstancesCommand).callsFake((input: { AutoScalingGroupName: string; InstanceIds: string[] }) => {
    for (const id of input.InstanceIds) {
      if (asgMembers.get(id) !== input.AutoScalingGroupName) throw awsError('ValidationError', `The instance ${id} is not part of Auto Scaling group ${input.AutoScalingGroupName}.`);
      asgMembers.delete(id);
    }
    return { Activities: input.InstanceIds.map((id) => ({ ActivityId: `act-${id}`, AutoScalingGroupName: input.AutoScalingGroupName, StatusCode: 'InProgress', Cause: 'detach', StartTime: NOW })) };
  });
  m.elbv2.on(DescribeTargetGroupsCommand).callsFake(() => ({ TargetGroups: [...registrations.keys()].map((TargetGroupArn) => ({ TargetGroupArn, TargetType: 'instance' })) }));
  m.elbv2.on(DescribeTargetHealthCommand).callsFake((input: { TargetGroupArn: string; Targets?: { Id: string }[] }) => ({
    TargetHealthDescriptions: (input.Targets ?? []).map((t) =>
      registrations.get(input.TargetGroupArn)?.has(t.Id)
        ? { Target: { Id: t.Id, Port: 8080 }, TargetHealth: { State: 'healthy' } }
        : { Target: { Id: t.Id }, TargetHealth: { State: 'unavailable', Reason: 'Target.NotRegistered' } },
    ),
  }));
  m.elbv2.on(DeregisterTargetsCommand).callsFake((input: { TargetGroupArn: string; Targets: { Id: string }[] }) => {
    for (const t of input.Targets) registrations.get(input.TargetGroupArn)?.delete(t.Id);
    return {};
  });

  // CloudFormation
  const stackOf = (nameOrId: string) => [...stacks.values()].find((s) => s.name === nameOrId || s.id === nameOrId);
  m.cloudFormation.on(DescribeStacksCommand).callsFake((input: { StackName: string }) => {
    const s = stackOf(input.StackName);
    if (!s) throw awsError('ValidationError', `Stack with id ${input.StackName} does not exist`);
    return { Stacks: [{ StackName: s.name, StackId: s.id, StackStatus: s.status, Parameters: s.parameters, RoleARN: s.roleArn, Capabilities: ['CAPABILITY_IAM'], CreationTime: new Date('2026-11-01T00:00:00Z') }] };
  });
  m.cloudFormation.on(UpdateStackCommand).callsFake((input: { StackName: string; Parameters?: { ParameterKey?: string; ParameterValue?: string; UsePreviousValue?: boolean }[] }) => {
    const s = stackOf(input.StackName);
    if (!s) throw awsError('ValidationError', `Stack with id ${input.StackName} does not exist`);
    s.status = 'UPDATE_IN_PROGRESS';
    for (const p of input.Parameters ?? []) {
      const current = s.parameters.find((q) => q.ParameterKey === p.ParameterKey);
      if (current && !p.UsePreviousValue && p.ParameterValue !== undefined) current.ParameterValue = p.ParameterValue;
    }
    return { StackId: s.id };
  });
  m.cloudFormation.on(DetectStackResourceDriftCommand).callsFake((input: { StackName: string; LogicalResourceId: string }) => ({
    StackResourceDrift: {
      StackId: stackOf(input.StackName)?.id,
      LogicalResourceId: input.LogicalResourceId,
      ResourceType: 'AWS::EC2::Instance',
      StackResourceDriftStatus: 'MODIFIED',
      PropertyDifferences: [{ PropertyPath: '/InstanceType', ExpectedValue: 't3.micro', ActualValue: 'm5.large', DifferenceType: 'NOT_EQUAL' }],
      Timestamp: NOW,
    },
  }));

  // SNS
  m.sns.on(PublishCommand).callsFake(() => ({ MessageId: `msg-${++published}` }));

  return { instances, groups, stacks, registrations, asgMembers, ssm, instance };
}
export type Account = ReturnType<typeof account>;

// ---------------------------------------------------------------------------------------------
// In-memory state with the DynamoDB classes' semantics.

export interface FakeState extends ResponderState {
  audited: { event: ChangeEvent; plan: Plan; outcomes: StepOutcome[]; decidedAt: string }[];
  replaced: ReplacementRecord[];
  claimsHeld: Map<string, string>;
  actionsUsed(accountId: string): number;
  alertAttempts(accountId: string): number;
  /** How many limit-reached first denials the limiter handed out. */
  firstDenials: number;
}

export function fakeState(now: () => Date = () => NOW): FakeState {
  const records = new Map<string, { done: boolean; result?: unknown }>();
  const claimsHeld = new Map<string, string>();
  const used = new Map<string, number>();
  const alerted = new Set<string>();
  const alertCounts = new Map<string, number>();
  const audited: FakeState['audited'] = [];
  const replaced: ReplacementRecord[] = [];
  const windowKey = (accountId: string, minutes: number) => `${accountId}#${Math.floor(now().getTime() / (minutes * 60_000))}`;
  const state: FakeState = {
    audited,
    replaced,
    claimsHeld,
    firstDenials: 0,
    actionsUsed: (accountId) => [...used].filter(([k]) => k.startsWith(`${accountId}#`)).reduce((n, [, v]) => n + v, 0),
    alertAttempts: (accountId) => [...alertCounts].filter(([k]) => k.startsWith(`${accountId}#`)).reduce((n, [, v]) => n + v, 0),
    once: {
      async run<T>(key: string, fn: () => Promise<T>) {
        const existing = records.get(key);
        if (existing?.done) return { status: 'duplicate' as const, result: existing.result as T };
        if (existing) return { status: 'duplicate-in-progress' as const };
        records.set(key, { done: false });
        try {
          const result = JSON.parse(JSON.stringify(await fn())) as T;
          records.set(key, { done: true, result });
          return { status: 'processed' as const, result };
        } catch (error) {
          records.delete(key);
          throw error;
        }
      },
    },
    claims: {
      async claim(keys, claimant) {
        const claimed: string[] = [];
        const alreadyClaimed: { key: string; by: string }[] = [];
        for (const key of new Set(keys)) {
          const holder = claimsHeld.get(key);
          if (holder === undefined || holder === claimant) {
            claimsHeld.set(key, claimant);
            claimed.push(key);
          } else alreadyClaimed.push({ key, by: holder });
        }
        return { claimed, alreadyClaimed };
      },
      async release(keys, claimant) {
        for (const key of keys) if (claimsHeld.get(key) === claimant) claimsHeld.delete(key);
      },
    },
    blastRadius(policy) {
      const max = policy.limits.maxDestructiveActions;
      const minutes = policy.limits.windowMinutes;
      return {
        async tryAcquire(accountId, count) {
          const key = windowKey(accountId, minutes);
          const windowStart = new Date(Number(key.split('#')[1]) * minutes * 60_000).toISOString();
          const current = used.get(key) ?? 0;
          if (current + count <= max) {
            used.set(key, current + count);
            return { allowed: true, used: current + count, limit: max, firstDenial: false, windowStart };
          }
          const firstDenial = !alerted.has(key);
          alerted.add(key);
          if (firstDenial) state.firstDenials += 1;
          return { allowed: false, used: current, limit: max, firstDenial, windowStart };
        },
        async release(accountId, count) {
          const key = windowKey(accountId, minutes);
          const current = used.get(key) ?? 0;
          if (current < count) return false;
          used.set(key, current - count);
          return true;
        },
      };
    },
    alerts(policy) {
      return {
        async admit(accountId) {
          const key = windowKey(accountId, policy.limits.alertWindowMinutes);
          const attempt = (alertCounts.get(key) ?? 0) + 1;
          alertCounts.set(key, attempt);
          return { send: attempt <= policy.limits.maxAlertsPerWindow };
        },
      };
    },
    audit: {
      async record(entry) {
        audited.push(entry);
        return [];
      },
    },
    replacements: {
      async record(entry) {
        replaced.push(entry);
        return true;
      },
    },
  };
  return state;
}

// ---------------------------------------------------------------------------------------------
// The harness.

export interface HarnessOptions {
  config?: Partial<ResponderConfig>;
  /** Change the sample policy (before the deployment settings are layered over it). */
  policy?: (policy: Policy) => Policy;
  state?: ResponderState;
  account?: AccountOptions;
  now?: () => Date;
}

export interface Harness {
  m: Mocks;
  deps: ResponderDeps;
  world: Account;
  state: ResponderState;
  /** The fake state, when the harness made one. */
  fake?: FakeState;
  /** One input through `respond`, with the handler's publishStoredMetrics after it. */
  respond(input: unknown): Promise<ResponseSummary>;
  calls(): SentCall[];
  /** Calls whose command is in functions/aws/iam.ts MUTATING_COMMANDS. */
  mutatingCalls(options?: { exceptPublish?: boolean }): SentCall[];
  published(): { Subject: string; Message: string; MessageStructure: string; TopicArn: string; MessageAttributes?: Record<string, { StringValue?: string }> }[];
  reset(): void;
}

const MUTATING = new Set<string>(MUTATING_COMMANDS);

export function harness(options: HarnessOptions = {}): Harness {
  const m = mocks();
  const world = account(m, options.account);
  const fake = options.state ? undefined : fakeState(options.now);
  const state = options.state ?? fake!;
  const clients = testClients();
  const config: ResponderConfig = {
    globalMode: 'enforce',
    killSwitchParameter: '',
    topicArn: TOPIC,
    trustedPrincipals: [],
    policyTtlSeconds: 300,
    ...options.config,
  };
  const base = (options.policy ?? ((p: Policy) => p))(samplePolicy());
  const now = options.now ?? (() => new Date(NOW));
  const deps: ResponderDeps = {
    config,
    policy: async () => applyDeploymentSettings(base, config),
    clientsFor: () => clients,
    homeClients: clients,
    readerFor: (c) => new AwsContextReader(c, { sleep: async () => {}, instanceTries: 2 }),
    state,
    confirmDrift: confirmInstanceDrift,
    readKillSwitch,
    logger: new Logger({ serviceName: 'driftwarden-test', logLevel: 'SILENT' }),
    metrics: new Metrics({ namespace: 'driftwarden-test', serviceName: 'driftwarden' }),
    now,
    sleep: async () => {},
  };
  const calls = () => sentCalls(m);
  return {
    m,
    deps,
    world,
    state,
    ...(fake ? { fake } : {}),
    async respond(input) {
      try {
        return await respond(input, deps);
      } finally {
        deps.metrics.publishStoredMetrics();
      }
    },
    calls,
    mutatingCalls: (o = {}) => calls().filter((c) => MUTATING.has(c.command) && !(o.exceptPublish && c.command === 'PublishCommand')),
    published: () => calls().filter((c) => c.command === 'PublishCommand').map((c) => c.input as never),
    reset() {
      for (const mock of Object.values(m)) mock.reset();
    },
  };
}

/** Restore every mocked client (call in afterEach). */
export function restoreMocks(h: Harness | undefined): void {
  if (!h) return;
  for (const mock of Object.values(h.m)) mock.restore();
}

/** The SNS message's email body (the fullest human rendering). */
export function alertText(publish: { Message: string }): string {
  const body = JSON.parse(publish.Message) as { email?: string };
  return body.email ?? '';
}

/** The SNS message's machine document (the body for sqs/lambda/https subscribers). */
export function alertDocument(publish: { Message: string }): { kind?: string; steps: { action: string; resource: string; status: string; detail: string }[]; details?: string[] } & Record<string, unknown> {
  const body = JSON.parse(publish.Message) as Record<string, string>;
  const machine = Object.entries(body).find(([k]) => !['default', 'email', 'sms'].includes(k));
  return JSON.parse(machine?.[1] ?? '{"steps":[]}') as never;
}
