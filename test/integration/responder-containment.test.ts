/**
 * The built responder against moto_server, end to end: a hand-made change goes in as an
 * EventBridge event, and moto's state afterwards shows what driftwarden did.
 *
 * What moto cannot show (said here so nobody reads more into these tests):
 * - moto's AWS::EC2::Instance ignores `LaunchTemplate` (it needs `ImageId`) and has no update
 *   handler, so a stack update with a new DriftwardenReplacementToken completes
 *   (UPDATE_COMPLETE, new parameter value, new launch template version) without launching a
 *   new instance. The tests assert the update, not the new instance.
 * - moto reports an attached interface's groups as its own plus the instance's launch groups,
 *   so the instances are launched without launch groups (see world.ts, createScalingGroup).
 */
import { DescribeAutoScalingGroupsCommand } from '@aws-sdk/client-auto-scaling';
import { DescribeStackResourcesCommand } from '@aws-sdk/client-cloudformation';
import {
  AuthorizeSecurityGroupIngressCommand,
  DescribeInstanceAttributeCommand,
  DescribeLaunchTemplateVersionsCommand,
  DescribeSecurityGroupRulesCommand,
  DescribeSecurityGroupsCommand,
  DescribeSnapshotsCommand,
} from '@aws-sdk/client-ec2';
import { sampleForMoto } from './events';
import { useMotoHarness } from './harness';
import { describeWithMoto } from './moto';
import type { Invocation } from './responder';
import { createScalingGroup, createStandaloneStack, createWebGroup, describeInstance, describeStack, STACK_NAME, tagValue } from './world';

describeWithMoto('responder (built bundle) against moto_server: containment', () => {
  const world = useMotoHarness();

  const outcomeOf = (invocation: Invocation, action: string) => invocation.result?.outcomes?.filter((o) => o.action === action) ?? [];

  /** The one alert this test's event produced. */
  const readAlert = async () => {
    const received = await world.receivedAlerts();
    expect(received).toHaveLength(1);
    return received[0]!;
  };

  it('revokes only the SSH rule opened to the world by hand, keeps the group and its other rules, and alerts', async () => {
    const groupId = await createWebGroup(world.aws.ec2, world.network.vpcId, 'web');
    const opened = await world.aws.ec2.send(
      new AuthorizeSecurityGroupIngressCommand({
        GroupId: groupId,
        IpPermissions: [{ IpProtocol: 'tcp', FromPort: 22, ToPort: 22, IpRanges: [{ CidrIp: '0.0.0.0/0', Description: 'temp ssh' }] }],
      }),
    );
    const ruleId = opened.SecurityGroupRules?.[0]?.SecurityGroupRuleId;
    expect(ruleId).toMatch(/^sgr-/);
    const event = sampleForMoto('admin-port-ssh-open-to-world', { 'sg-0a1b2c3d4e5f60003': groupId, 'sgr-0a1b2c3d4e5f00001': ruleId! });

    const invocation = await world.invoke(event);

    expect(invocation.error).toBeUndefined();
    // The hand-made rule is also a manual change of the group, observed only (the policy's mode).
    expect(invocation.result).toMatchObject({ status: 'processed', decision: 'contain', rules: ['admin-port-open-to-world', 'security-group-manual-change'] });
    expect(outcomeOf(invocation, 'revoke-rule')).toEqual([expect.objectContaining({ resource: groupId, status: 'done' })]);
    const rules = await world.aws.ec2.send(new DescribeSecurityGroupRulesCommand({ Filters: [{ Name: 'group-id', Values: [groupId] }] }));
    const remaining = (rules.SecurityGroupRules ?? []).map((r) => ({ egress: r.IsEgress, protocol: r.IpProtocol, from: r.FromPort, to: r.ToPort, cidr: r.CidrIpv4 }));
    expect(remaining).toEqual(
      expect.arrayContaining([
        { egress: false, protocol: 'tcp', from: 443, to: 443, cidr: '10.0.0.0/8' },
        { egress: true, protocol: '-1', from: -1, to: -1, cidr: '0.0.0.0/0' },
      ]),
    );
    expect(remaining).toHaveLength(2);
    expect((rules.SecurityGroupRules ?? []).map((r) => r.SecurityGroupRuleId)).not.toContain(ruleId);
    const groups = await world.aws.ec2.send(new DescribeSecurityGroupsCommand({ GroupIds: [groupId] }));
    expect(groups.SecurityGroups).toHaveLength(1);

    const { subject, document } = await readAlert();
    expect(subject).toContain('admin-port-open-to-world');
    expect(subject).toContain(groupId);
    expect(subject.length).toBeLessThan(100);
    expect(document).toMatchObject({ kind: 'response', rules: ['admin-port-open-to-world', 'security-group-manual-change'], decision: 'contain', account: '123456789012', event: { id: event.detail.eventID } });
  });

  it('isolates a hand-edited stack instance, snapshots its volumes, tags it quarantined and updates its stack with a new replacement token', async () => {
    const groupId = await createWebGroup(world.aws.ec2, world.network.vpcId, 'web');
    const stack = await createStandaloneStack(world.aws, world.network, groupId);
    const before = await describeInstance(world.aws.ec2, stack.instanceId);
    const volumeIds = (before.BlockDeviceMappings ?? []).map((m) => m.Ebs!.VolumeId!);
    expect(volumeIds).toHaveLength(1);
    const event = sampleForMoto('instance-manual-change-instance-type-on-stack-instance', { 'i-0a1b2c3d4e5f60001': stack.instanceId });

    const invocation = await world.invoke(event);

    expect(invocation.error).toBeUndefined();
    expect(invocation.result).toMatchObject({ status: 'processed', decision: 'replace', rules: ['instance-manual-change'], resources: [stack.instanceId] });
    for (const action of ['isolate-instance', 'snapshot-volumes', 'tag', 'replace']) {
      expect({ action, outcomes: outcomeOf(invocation, action).map((o) => o.status) }).toEqual({ action, outcomes: ['done'] });
    }

    // Isolated: every interface carries only the isolation group, which has no rule at all.
    const after = await describeInstance(world.aws.ec2, stack.instanceId);
    const isolation = await world.aws.ec2.send(
      new DescribeSecurityGroupsCommand({ Filters: [{ Name: 'group-name', Values: [`driftwarden-isolation-${world.network.vpcId}`] }, { Name: 'vpc-id', Values: [world.network.vpcId] }] }),
    );
    expect(isolation.SecurityGroups).toHaveLength(1);
    const isolationGroupId = isolation.SecurityGroups![0]!.GroupId!;
    expect((after.NetworkInterfaces ?? []).map((n) => (n.Groups ?? []).map((g) => g.GroupId))).toEqual([[isolationGroupId]]);
    const isolationRules = await world.aws.ec2.send(new DescribeSecurityGroupRulesCommand({ Filters: [{ Name: 'group-id', Values: [isolationGroupId] }] }));
    expect(isolationRules.SecurityGroupRules ?? []).toEqual([]);

    // Evidence: one snapshot per volume, tagged with the finding.
    const findingId = tagValue(after.Tags, 'driftwarden:quarantined');
    expect(findingId).toBeTruthy();
    const snapshots = await world.aws.ec2.send(new DescribeSnapshotsCommand({ OwnerIds: ['self'], Filters: [{ Name: 'tag:driftwarden:finding-id', Values: [findingId!] }] }));
    expect((snapshots.Snapshots ?? []).map((s) => s.VolumeId).sort()).toEqual([...volumeIds].sort());
    expect(tagValue(snapshots.Snapshots![0]!.Tags, 'driftwarden:instance-id')).toBe(stack.instanceId);

    // Forensic hold: kept, protected from termination, stops rather than terminates on shutdown.
    expect(after.State?.Name).toBe('running');
    const protection = await world.aws.ec2.send(new DescribeInstanceAttributeCommand({ InstanceId: stack.instanceId, Attribute: 'disableApiTermination' }));
    expect(protection.DisableApiTermination?.Value).toBe(true);
    expect(outcomeOf(invocation, 'terminate').map((o) => o.status)).not.toContain('done');

    // Replacement: the stack was updated with a new token, everything else as it was.
    const updated = await describeStack(world.aws.cloudFormation, STACK_NAME);
    expect(updated.StackStatus).toBe('UPDATE_COMPLETE');
    const parameters = Object.fromEntries((updated.Parameters ?? []).map((p) => [p.ParameterKey, p.ParameterValue]));
    expect(parameters.DriftwardenReplacementToken).toMatch(/^dw-[0-9a-f]{24}$/);
    expect(parameters).toMatchObject({ ImageId: world.network.imageId, SubnetId: world.network.subnetId, SecurityGroupId: groupId });
    // The contract's effect: the token reached the launch template's data as a new version.
    const resources = await world.aws.cloudFormation.send(new DescribeStackResourcesCommand({ StackName: STACK_NAME, LogicalResourceId: 'LaunchTemplate' }));
    const versions = await world.aws.ec2.send(new DescribeLaunchTemplateVersionsCommand({ LaunchTemplateId: resources.StackResources![0]!.PhysicalResourceId! }));
    const tokens = (versions.LaunchTemplateVersions ?? []).map((v) => tagValue(v.LaunchTemplateData?.TagSpecifications?.[0]?.Tags, 'driftwarden:replacement-token'));
    expect(tokens).toContain(parameters.DriftwardenReplacementToken);

    const { subject, document } = await readAlert();
    expect(subject).toContain('instance-manual-change');
    expect(subject).toContain(stack.instanceId);
    expect(document).toMatchObject({ rules: ['instance-manual-change'], resources: [expect.objectContaining({ id: stack.instanceId })] });
  });

  it('isolates a hand-edited Auto Scaling member and detaches it without lowering the desired capacity, never updating the stack that owns the group', async () => {
    const groupId = await createWebGroup(world.aws.ec2, world.network.vpcId, 'web');
    const stack = await createStandaloneStack(world.aws, world.network, groupId);
    const fleet = await createScalingGroup(world.aws, world.network, 'fleet', { stackName: STACK_NAME, stackId: stack.stackId });
    const [member, sibling] = fleet.instanceIds as [string, string];
    expect(tagValue((await describeInstance(world.aws.ec2, member)).Tags, 'aws:cloudformation:stack-name')).toBe(STACK_NAME);
    const event = sampleForMoto('instance-manual-change-security-groups-on-auto-scaling-member', {
      'i-0a1b2c3d4e5f60002': member,
      'sg-0a1b2c3d4e5f60002': groupId,
      'sg-0a1b2c3d4e5f60003': groupId,
    });

    const invocation = await world.invoke(event);

    expect(invocation.error).toBeUndefined();
    expect(invocation.result).toMatchObject({ status: 'processed', decision: 'replace', rules: ['instance-manual-change'] });
    expect(invocation.result?.resources).toContain(member);
    for (const action of ['isolate-instance', 'snapshot-volumes', 'tag', 'detach', 'replace']) {
      expect({ action, outcomes: outcomeOf(invocation, action).map((o) => o.status) }).toEqual({ action, outcomes: ['done'] });
    }
    const after = await describeInstance(world.aws.ec2, member);
    const isolationGroupName = `driftwarden-isolation-${world.network.vpcId}`;
    expect((after.NetworkInterfaces ?? []).flatMap((n) => (n.Groups ?? []).map((g) => g.GroupName))).toEqual([isolationGroupName]);
    const findingId = tagValue(after.Tags, 'driftwarden:quarantined');
    expect(findingId).toBeTruthy();
    const snapshots = await world.aws.ec2.send(new DescribeSnapshotsCommand({ OwnerIds: ['self'], Filters: [{ Name: 'tag:driftwarden:finding-id', Values: [findingId!] }] }));
    expect((snapshots.Snapshots ?? []).map((s) => s.VolumeId)).toEqual((after.BlockDeviceMappings ?? []).map((m) => m.Ebs!.VolumeId));

    const group = (await world.aws.autoScaling.send(new DescribeAutoScalingGroupsCommand({ AutoScalingGroupNames: ['fleet'] }))).AutoScalingGroups![0]!;
    expect(group.DesiredCapacity).toBe(2);
    const members = (group.Instances ?? []).map((i) => i.InstanceId);
    expect(members).not.toContain(member);
    expect(members).toContain(sibling);
    // Detached without decrementing: the group launched a fresh member in its place.
    expect(members).toHaveLength(2);
    // The sibling is untouched.
    const untouched = await describeInstance(world.aws.ec2, sibling);
    expect(tagValue(untouched.Tags, 'driftwarden:quarantined')).toBeUndefined();
    expect((untouched.NetworkInterfaces ?? []).flatMap((n) => (n.Groups ?? []).map((g) => g.GroupName))).not.toContain(isolationGroupName);
    // A group member is replaced by its group, never by an update of the stack that owns the
    // group (which would roll the whole fleet).
    expect(outcomeOf(invocation, 'replace')[0]!.detail).toContain('Auto Scaling group fleet');
    const owner = await describeStack(world.aws.cloudFormation, STACK_NAME);
    expect(owner.StackStatus).toBe('CREATE_COMPLETE');
    expect(owner.Parameters?.find((p) => p.ParameterKey === 'DriftwardenReplacementToken')?.ParameterValue).toBe('initial');

    const { subject } = await readAlert();
    expect(subject).toContain('instance-manual-change');
    expect(subject).toContain(member);
  });
});
