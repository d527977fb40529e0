/**
 * The responder end to end on the cases: real ResponderDeps, the real context reader
 * over mocked AWS clients that describe the sample account, the sample policy.
 */
import { DetachInstancesCommand } from '@aws-sdk/client-auto-scaling';
import { UpdateStackCommand } from '@aws-sdk/client-cloudformation';
import {
  CreateSnapshotCommand,
  CreateTagsCommand,
  ModifyNetworkInterfaceAttributeCommand,
  RevokeSecurityGroupIngressCommand,
  TerminateInstancesCommand,
} from '@aws-sdk/client-ec2';
import { PublishCommand } from '@aws-sdk/client-sns';
import { replacementToken } from '../../functions/aws/steps/replace';
import { alertDocument, alertText, harness, INSTANCES, ISOLATION_SG, restoreMocks, SAMPLES, sample, TOPIC, UNTRACK_SG, type Harness } from './harness';

let h: Harness;
beforeEach(() => {
  h = harness();
});
afterEach(() => restoreMocks(h));

const CONTAINMENT = new Set(['RevokeSecurityGroupIngressCommand', 'ModifyNetworkInterfaceAttributeCommand']);
const AFTER_CONTAINMENT = new Set(['CreateSnapshotCommand', 'PublishCommand', 'UpdateStackCommand', 'DetachInstancesCommand']);

/** Every containment call comes before the first evidence, alert or replacement call. */
function expectContainmentFirst(): void {
  const names = h.calls().map((c) => c.command);
  const lastContainment = Math.max(...names.map((n, i) => (CONTAINMENT.has(n) ? i : -1)));
  const firstAfter = names.findIndex((n) => AFTER_CONTAINMENT.has(n));
  expect(lastContainment).toBeGreaterThanOrEqual(0);
  expect(firstAfter).toBeGreaterThan(lastContainment);
  // The quarantine tag is evidence too: it follows containment.
  const quarantineTag = h.calls().findIndex((c) => c.command === 'CreateTagsCommand' && JSON.stringify(c.input).includes('driftwarden:quarantined'));
  if (quarantineTag >= 0) expect(quarantineTag).toBeGreaterThan(lastContainment);
}

function expectOneLineSubject(): void {
  for (const p of h.published()) {
    expect(p.Subject).not.toMatch(/[\r\n]/);
    expect(p.Subject.length).toBeLessThan(100);
    expect(p.MessageStructure).toBe('json');
    expect(JSON.parse(p.Message)).toHaveProperty('default');
  }
}

describe('SSH opened to the world by hand', () => {
  test('revokes exactly the one offending rule by its id and alerts, with no other EC2 mutation', async () => {
    const summary = await h.respond(sample(SAMPLES.ssh));

    expect(h.m.ec2).toHaveReceivedCommandTimes(RevokeSecurityGroupIngressCommand, 1);
    expect(h.m.ec2).toHaveReceivedCommandWith(RevokeSecurityGroupIngressCommand, { GroupId: 'sg-0a1b2c3d4e5f60003', SecurityGroupRuleIds: ['sgr-0a1b2c3d4e5f00001'] });
    expect(h.mutatingCalls({ exceptPublish: true }).map((c) => c.command)).toEqual(['RevokeSecurityGroupIngressCommand']);
    expect(h.m.sns).toHaveReceivedCommandTimes(PublishCommand, 1);
    expect(h.m.sns).toHaveReceivedCommandWith(PublishCommand, { TopicArn: TOPIC, MessageStructure: 'json' });
    expectOneLineSubject();
    expect(h.published()[0]!.Subject).toContain('sg-0a1b2c3d4e5f60003');
    expectContainmentFirst();

    expect(summary).toMatchObject({ status: 'processed', decision: 'contain', eventId: '00000001-1a2b-4c3d-8e4f-a0b1c2d3e4f5', resources: ['sg-0a1b2c3d4e5f60003'] });
    expect(summary.outcomes?.map((o) => [o.action, o.status])).toEqual([
      ['revoke-rule', 'done'],
      ['notify', 'done'],
    ]);
  });

  test('the Config item of the same rule (no rule id) revokes the exact permission, one source, never the group', async () => {
    await h.respond(sample(SAMPLES.sshConfig));
    expect(h.m.ec2).toHaveReceivedCommandTimes(RevokeSecurityGroupIngressCommand, 1);
    expect(h.m.ec2).toHaveReceivedCommandWith(RevokeSecurityGroupIngressCommand, {
      GroupId: 'sg-0a1b2c3d4e5f60003',
      IpPermissions: [{ IpProtocol: 'tcp', FromPort: 22, ToPort: 22, IpRanges: [{ CidrIp: '0.0.0.0/0' }] }],
    });
    // The legitimate 443 rule from 10.0.0.0/8 in the same item is left alone.
    expect(JSON.stringify(h.m.ec2.commandCalls(RevokeSecurityGroupIngressCommand)[0]!.args[0].input)).not.toContain('10.0.0.0/8');
  });
});

describe('a standalone stack instance edited by hand', () => {
  const id = INSTANCES.stack;
  const enis = ['eni-0a1b2c3d4e5f60001', 'eni-0a1b2c3d4e5f60002'];
  const findingId = 'instance-manual-change:00000007-1a2b-4c3d-8e4f-a0b1c2d3e4f5';

  test('isolates every interface (allow-all first, then the isolation group), snapshots, tags, and replaces through the stack', async () => {
    const summary = await h.respond(sample(SAMPLES.stackInstance));

    const moves = h.calls().filter((c) => c.command === 'ModifyNetworkInterfaceAttributeCommand').map((c) => c.input as { NetworkInterfaceId: string; Groups: string[] });
    expect(moves).toHaveLength(4);
    for (const eni of enis) {
      const mine = moves.filter((mv) => mv.NetworkInterfaceId === eni).map((mv) => mv.Groups);
      expect(mine).toEqual([[UNTRACK_SG], [ISOLATION_SG]]);
    }
    // Every interface is in the allow-all group before any goes into isolation.
    const lastUntrack = moves.map((mv) => mv.Groups[0]).lastIndexOf(UNTRACK_SG);
    const firstIsolation = moves.map((mv) => mv.Groups[0]).indexOf(ISOLATION_SG);
    expect(lastUntrack).toBeLessThan(firstIsolation);
    expect(h.world.instance(id)!.networkInterfaces!.map((n) => n.groups)).toEqual([[ISOLATION_SG], [ISOLATION_SG]]);

    expect(h.m.ec2).toHaveReceivedCommandTimes(CreateSnapshotCommand, 2);
    expect(h.m.ec2).toHaveReceivedCommandWith(CreateSnapshotCommand, { VolumeId: 'vol-0a1b2c3d4e5f60001' });
    expect(h.m.ec2).toHaveReceivedCommandWith(CreateSnapshotCommand, { VolumeId: 'vol-0a1b2c3d4e5f60002' });
    expect(h.m.ec2).toHaveReceivedCommandWith(CreateTagsCommand, {
      Resources: [id],
      Tags: expect.arrayContaining([{ Key: 'driftwarden:quarantined', Value: findingId }]),
    });

    expect(h.m.cloudFormation).toHaveReceivedCommandTimes(UpdateStackCommand, 1);
    const update = h.m.cloudFormation.commandCalls(UpdateStackCommand)[0]!.args[0].input;
    expect(update).toMatchObject({
      StackName: 'arn:aws:cloudformation:eu-west-1:111122223333:stack/web-prod/0a1b2c3d-4e5f-4071-8293-a4b5c6d7e8f9',
      UsePreviousTemplate: true,
      RoleARN: 'arn:aws:iam::111122223333:role/cfn-service-role',
    });
    expect(update.Parameters).toEqual([
      { ParameterKey: 'DriftwardenReplacementToken', ParameterValue: replacementToken(findingId) },
      { ParameterKey: 'InstanceType', UsePreviousValue: true },
    ]);
    expect(replacementToken(findingId)).not.toBe('initial');
    expect(update.ClientRequestToken).toMatch(/^[a-zA-Z][-a-zA-Z0-9]{0,127}$/);
    // Termination waits for the watcher: no TerminateInstances now.
    expect(h.m.ec2).not.toHaveReceivedCommand(TerminateInstancesCommand);
    expect(h.m.autoScaling).not.toHaveReceivedCommand(DetachInstancesCommand);
    expectContainmentFirst();

    // The alert lists every outcome.
    expect(h.m.sns).toHaveReceivedCommandTimes(PublishCommand, 1);
    expectOneLineSubject();
    const published = h.published()[0]!;
    expect(alertDocument(published).steps.map((s) => s.action)).toEqual(['isolate-instance', 'snapshot-volumes', 'tag', 'replace', 'terminate']);
    const text = alertText(published);
    for (const action of ['isolate-instance', 'snapshot-volumes', 'tag', 'replace', 'terminate']) expect(text).toContain(action);
    expect(text).toContain('/InstanceType');

    expect(summary).toMatchObject({ status: 'processed', decision: 'replace', rules: ['instance-manual-change'], resources: [id] });
    expect(summary.outcomes?.map((o) => [o.action, o.status])).toEqual([
      ['isolate-instance', 'done'],
      ['snapshot-volumes', 'done'],
      ['tag', 'done'],
      ['notify', 'done'],
      ['replace', 'done'],
      ['terminate', 'deferred'],
    ]);
    // The watcher is told what to wait for.
    expect(h.fake!.replaced).toEqual([expect.objectContaining({ instanceId: id, stackName: 'web-prod', replacementToken: replacementToken(findingId), clientRequestToken: update.ClientRequestToken, holdSeconds: 86400 })]);
  });
});

describe('an Auto Scaling member edited by hand', () => {
  const id = INSTANCES.asg;

  test('isolates, snapshots, tags and detaches it without lowering desired capacity; never updates the stack', async () => {
    const summary = await h.respond(sample(SAMPLES.asgMember));

    expect(h.m.ec2).toHaveReceivedCommandWith(ModifyNetworkInterfaceAttributeCommand, { NetworkInterfaceId: 'eni-0a1b2c3d4e5f60003', Groups: [UNTRACK_SG] });
    expect(h.m.ec2).toHaveReceivedCommandWith(ModifyNetworkInterfaceAttributeCommand, { NetworkInterfaceId: 'eni-0a1b2c3d4e5f60003', Groups: [ISOLATION_SG] });
    expect(h.m.ec2).toHaveReceivedCommandTimes(CreateSnapshotCommand, 1);
    expect(h.m.ec2).toHaveReceivedCommandWith(CreateSnapshotCommand, { VolumeId: 'vol-0a1b2c3d4e5f60003' });
    expect(h.m.ec2).toHaveReceivedCommandWith(CreateTagsCommand, { Resources: [id], Tags: expect.arrayContaining([{ Key: 'driftwarden:quarantined', Value: 'instance-manual-change:00000008-1a2b-4c3d-8e4f-a0b1c2d3e4f5' }]) });
    expect(h.m.autoScaling).toHaveReceivedCommandTimes(DetachInstancesCommand, 1);
    expect(h.m.autoScaling).toHaveReceivedCommandWith(DetachInstancesCommand, { AutoScalingGroupName: 'api-asg', InstanceIds: [id], ShouldDecrementDesiredCapacity: false });
    expect(h.m.cloudFormation).not.toHaveReceivedCommand(UpdateStackCommand);
    expect(h.m.ec2).not.toHaveReceivedCommand(TerminateInstancesCommand);
    expectContainmentFirst();
    expectOneLineSubject();

    expect(summary).toMatchObject({ decision: 'replace' });
    expect(summary.outcomes?.find((o) => o.action === 'detach')).toMatchObject({ status: 'done' });
    expect(summary.outcomes?.find((o) => o.action === 'replace')).toMatchObject({ status: 'done', detail: expect.stringContaining('api-asg') });
  });
});

describe('an instance launched from an unapproved AMI', () => {
  const id = INSTANCES.unapproved;

  test('is contained, never replaced, and the alert names its launch template', async () => {
    const summary = await h.respond(sample(SAMPLES.unapprovedAmi));

    expect(h.m.ec2).toHaveReceivedCommandWith(ModifyNetworkInterfaceAttributeCommand, { NetworkInterfaceId: 'eni-0a1b2c3d4e5f60004', Groups: [ISOLATION_SG] });
    expect(h.m.cloudFormation).not.toHaveReceivedCommand(UpdateStackCommand);
    expect(h.m.autoScaling).not.toHaveReceivedCommand(DetachInstancesCommand);
    expect(h.m.ec2).not.toHaveReceivedCommand(TerminateInstancesCommand);
    expectContainmentFirst();

    expect(summary).toMatchObject({ decision: 'contain', rules: ['unapproved-ami'] });
    expect(summary.outcomes?.map((o) => o.action)).not.toContain('replace');
    expect(summary.outcomes?.map((o) => o.action)).not.toContain('terminate');
    const text = alertText(h.published()[0]!);
    expect(text).toContain('lt-0123456789abcdef0');
    expect(text).toContain('ami-0fedcba9876543210');
  });
});
