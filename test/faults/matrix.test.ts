/**
 * Fault injection. For each positive sample that mutates, every AWS command its run sends (found
 * by a clean run) is made to fail, alone, with (a) throttling that outlasts the retries, (b) access
 * denied, (c) the not-found error that call really answers, (d) a 5xx. The table says, per
 * (sample, command, fault), what must come out: the decision and every step that did not end
 * `done` (`action:status`). Whatever the fault: `respond` never throws; a failure is reported by
 * an alert (the response alert or the follow-up) or, when publishing itself failed, by the
 * summary; an instance whose isolation failed is never detached, replaced or terminated.
 */
import { DescribeAutoScalingInstancesCommand, DetachInstancesCommand } from '@aws-sdk/client-auto-scaling';
import { DescribeStacksCommand, DetectStackResourceDriftCommand, UpdateStackCommand } from '@aws-sdk/client-cloudformation';
import * as ec2 from '@aws-sdk/client-ec2';
import { DeregisterTargetsCommand, DescribeTargetGroupsCommand, DescribeTargetHealthCommand } from '@aws-sdk/client-elastic-load-balancing-v2';
import { PublishCommand } from '@aws-sdk/client-sns';
import { GetParameterCommand, GetParametersByPathCommand } from '@aws-sdk/client-ssm';
import type { MetadataBearer } from '@smithy/types';
import type { AwsStub } from 'aws-sdk-client-mock';
import { alertDocument, awsError, harness, restoreMocks, SAMPLES, sample, type Harness } from '../responder/harness';

type Fault = 'throttle' | 'denied' | 'notFound' | 'server';
const FAULTS: Fault[] = ['throttle', 'denied', 'notFound', 'server'];
type ClientName = keyof Harness['m'];
// eslint-disable-next-line @typescript-eslint/no-explicit-any
type AnyCommand = new (input: any) => any;

const COMMANDS: Record<string, { client: ClientName; command: AnyCommand; notFound: Error }> = {
  DescribeSecurityGroupsCommand: { client: 'ec2', command: ec2.DescribeSecurityGroupsCommand, notFound: awsError('InvalidGroup.NotFound', "The security group 'sg-0a1b2c3d4e5f60003' does not exist") },
  DescribeSecurityGroupRulesCommand: { client: 'ec2', command: ec2.DescribeSecurityGroupRulesCommand, notFound: awsError('InvalidGroup.NotFound') },
  DescribeInstancesCommand: { client: 'ec2', command: ec2.DescribeInstancesCommand, notFound: awsError('InvalidInstanceID.NotFound') },
  DescribeInstanceAttributeCommand: { client: 'ec2', command: ec2.DescribeInstanceAttributeCommand, notFound: awsError('InvalidInstanceID.NotFound') },
  DescribeImagesCommand: { client: 'ec2', command: ec2.DescribeImagesCommand, notFound: awsError('InvalidAMIID.NotFound') },
  RevokeSecurityGroupIngressCommand: { client: 'ec2', command: ec2.RevokeSecurityGroupIngressCommand, notFound: awsError('InvalidSecurityGroupRuleId.NotFound') },
  CreateTagsCommand: { client: 'ec2', command: ec2.CreateTagsCommand, notFound: awsError('InvalidInstanceID.NotFound') },
  ModifyNetworkInterfaceAttributeCommand: { client: 'ec2', command: ec2.ModifyNetworkInterfaceAttributeCommand, notFound: awsError('InvalidNetworkInterfaceID.NotFound') },
  ModifyInstanceAttributeCommand: { client: 'ec2', command: ec2.ModifyInstanceAttributeCommand, notFound: awsError('InvalidInstanceID.NotFound') },
  DescribeSnapshotsCommand: { client: 'ec2', command: ec2.DescribeSnapshotsCommand, notFound: awsError('InvalidSnapshot.NotFound') },
  CreateSnapshotCommand: { client: 'ec2', command: ec2.CreateSnapshotCommand, notFound: awsError('InvalidVolume.NotFound') },
  GetParameterCommand: { client: 'ssm', command: GetParameterCommand, notFound: awsError('ParameterNotFound') },
  GetParametersByPathCommand: { client: 'ssm', command: GetParametersByPathCommand, notFound: awsError('ParameterNotFound') },
  PublishCommand: { client: 'sns', command: PublishCommand, notFound: awsError('NotFound', 'Topic does not exist', 404) },
  DetectStackResourceDriftCommand: { client: 'cloudFormation', command: DetectStackResourceDriftCommand, notFound: awsError('ValidationError', 'Stack with id web-prod does not exist') },
  DescribeStacksCommand: { client: 'cloudFormation', command: DescribeStacksCommand, notFound: awsError('ValidationError', 'Stack with id web-prod does not exist') },
  UpdateStackCommand: { client: 'cloudFormation', command: UpdateStackCommand, notFound: awsError('ValidationError', 'Stack with id web-prod does not exist') },
  DescribeAutoScalingInstancesCommand: { client: 'autoScaling', command: DescribeAutoScalingInstancesCommand, notFound: awsError('ValidationError', 'The instance i-0a1b2c3d4e5f60002 is not part of Auto Scaling group api-asg.') },
  DetachInstancesCommand: { client: 'autoScaling', command: DetachInstancesCommand, notFound: awsError('ValidationError', 'The instance i-0a1b2c3d4e5f60002 is not part of Auto Scaling group api-asg.') },
  DescribeTargetGroupsCommand: { client: 'elbv2', command: DescribeTargetGroupsCommand, notFound: awsError('TargetGroupNotFound') },
  DescribeTargetHealthCommand: { client: 'elbv2', command: DescribeTargetHealthCommand, notFound: awsError('TargetGroupNotFound') },
  DeregisterTargetsCommand: { client: 'elbv2', command: DeregisterTargetsCommand, notFound: awsError('TargetGroupNotFound') },
};

function fault(kind: Fault, command: string, client: ClientName): Error {
  switch (kind) {
    case 'throttle':
      return awsError(client === 'ec2' ? 'RequestLimitExceeded' : 'ThrottlingException', 'Rate exceeded');
    case 'denied':
      return client === 'ec2' ? awsError('UnauthorizedOperation', 'You are not authorized to perform this operation.', 403) : awsError(client === 'ssm' ? 'AccessDeniedException' : 'AccessDenied', 'not authorized', 403);
    case 'notFound':
      return COMMANDS[command]!.notFound;
    case 'server':
      return awsError(client === 'ec2' ? 'InternalError' : 'ServiceUnavailable', 'We encountered an internal error. Please try again.', 500);
  }
}

/** A string per fault, or one for all four. `decision/` then every step outcome that is not `done`. */
type Expect = string | Partial<Record<Fault, string>> & { other: string };

const SSH = SAMPLES.ssh;
const STACK = SAMPLES.stackInstance;
const ASG = SAMPLES.asgMember;
const AMI = SAMPLES.unapprovedAmi;
const ISOLATE_FAILED_STACK = 'replace/isolate-instance:failed,replace:skipped,terminate:skipped';
const ISOLATE_FAILED_ASG = 'replace/isolate-instance:failed,detach:skipped,replace:skipped,terminate:skipped';
const DETACH_FAILED = 'replace/detach:failed,replace:failed,terminate:skipped';

const TABLE: [string, string, Expect][] = [
  // SSH opened to the world
  // The group cannot be read: held (fail closed). The group is gone: nothing to revoke, so observe.
  [SSH, 'DescribeSecurityGroupsCommand', { notFound: 'observe/', other: 'held/' }],
  [SSH, 'GetParameterCommand', { notFound: 'contain/', other: 'observe/' }],
  [SSH, 'RevokeSecurityGroupIngressCommand', { notFound: 'contain/revoke-rule:already-done', other: 'contain/revoke-rule:failed' }],
  [SSH, 'PublishCommand', 'contain/notify:failed'],
  // A standalone stack instance edited by hand (an instance that no longer exists needs no containment: observe)
  [STACK, 'DescribeInstancesCommand', { notFound: 'observe/', other: 'held/' }],
  [STACK, 'GetParameterCommand', { notFound: 'replace/terminate:deferred', other: 'observe/' }],
  [STACK, 'DescribeInstanceAttributeCommand', { notFound: 'observe/', other: 'held/' }],
  [STACK, 'DetectStackResourceDriftCommand', 'replace/terminate:deferred'],
  [STACK, 'DescribeSecurityGroupsCommand', ISOLATE_FAILED_STACK],
  [STACK, 'DescribeSecurityGroupRulesCommand', ISOLATE_FAILED_STACK],
  // The record tag (original groups, hold) fails but the moves go through: the instance is cut
  // off, so replacement goes on; isolate reports the lost record, tag its own failure.
  [STACK, 'CreateTagsCommand', 'replace/isolate-instance:failed,tag:failed,terminate:deferred'],
  [STACK, 'ModifyNetworkInterfaceAttributeCommand', ISOLATE_FAILED_STACK],
  // Isolated, but the forensic hold failed: the instance is cut off, so replacement goes on.
  [STACK, 'ModifyInstanceAttributeCommand', 'replace/isolate-instance:failed,terminate:deferred'],
  [STACK, 'DescribeSnapshotsCommand', 'replace/snapshot-volumes:failed,terminate:deferred'],
  [STACK, 'CreateSnapshotCommand', 'replace/snapshot-volumes:failed,terminate:deferred'],
  [STACK, 'PublishCommand', 'replace/notify:failed,terminate:deferred'],
  [STACK, 'DescribeStacksCommand', 'replace/replace:failed,terminate:skipped'],
  [STACK, 'UpdateStackCommand', 'replace/replace:failed,terminate:skipped'],
  // An Auto Scaling member edited by hand
  [ASG, 'DescribeInstancesCommand', { notFound: 'observe/', other: 'held/' }],
  [ASG, 'GetParameterCommand', { notFound: 'replace/terminate:deferred', other: 'observe/' }],
  [ASG, 'DescribeInstanceAttributeCommand', { notFound: 'observe/', other: 'held/' }],
  [ASG, 'DescribeSecurityGroupsCommand', ISOLATE_FAILED_ASG],
  [ASG, 'DescribeSecurityGroupRulesCommand', ISOLATE_FAILED_ASG],
  [ASG, 'CreateTagsCommand', 'replace/isolate-instance:failed,tag:failed,terminate:deferred'],
  [ASG, 'ModifyNetworkInterfaceAttributeCommand', ISOLATE_FAILED_ASG],
  [ASG, 'ModifyInstanceAttributeCommand', 'replace/isolate-instance:failed,terminate:deferred'],
  [ASG, 'DescribeSnapshotsCommand', 'replace/snapshot-volumes:failed,terminate:deferred'],
  [ASG, 'CreateSnapshotCommand', 'replace/snapshot-volumes:failed,terminate:deferred'],
  [ASG, 'PublishCommand', 'replace/notify:failed,terminate:deferred'],
  [ASG, 'DescribeAutoScalingInstancesCommand', { notFound: 'replace/terminate:deferred', other: DETACH_FAILED }],
  [ASG, 'DetachInstancesCommand', { notFound: 'replace/terminate:deferred', other: DETACH_FAILED }],
  [ASG, 'DescribeTargetGroupsCommand', DETACH_FAILED],
  [ASG, 'DescribeTargetHealthCommand', { notFound: 'replace/terminate:deferred', other: DETACH_FAILED }],
  // A target group deleted since it was listed: nothing left to deregister there.
  [ASG, 'DeregisterTargetsCommand', { notFound: 'replace/terminate:deferred', other: DETACH_FAILED }],
  // An instance launched from an unapproved AMI
  [AMI, 'DescribeInstancesCommand', { notFound: 'observe/', other: 'held/' }],
  [AMI, 'DescribeImagesCommand', 'held/'],
  [AMI, 'GetParametersByPathCommand', 'contain/'],
  [AMI, 'GetParameterCommand', { notFound: 'contain/', other: 'observe/' }],
  [AMI, 'DescribeInstanceAttributeCommand', { notFound: 'observe/', other: 'held/' }],
  [AMI, 'DescribeSecurityGroupsCommand', 'contain/isolate-instance:failed'],
  [AMI, 'DescribeSecurityGroupRulesCommand', 'contain/isolate-instance:failed'],
  [AMI, 'CreateTagsCommand', 'contain/isolate-instance:failed,tag:failed'],
  [AMI, 'ModifyNetworkInterfaceAttributeCommand', 'contain/isolate-instance:failed'],
  [AMI, 'ModifyInstanceAttributeCommand', 'contain/isolate-instance:failed'],
  [AMI, 'DescribeSnapshotsCommand', 'contain/snapshot-volumes:failed'],
  [AMI, 'CreateSnapshotCommand', 'contain/snapshot-volumes:failed'],
  [AMI, 'PublishCommand', 'contain/notify:failed'],
];

const expectedFor = (e: Expect, f: Fault): string => (typeof e === 'string' ? e : e[f] ?? e.other);

let h: Harness | undefined;
afterEach(() => restoreMocks(h));

describe('the table covers every command each sample sends', () => {
  test.each([SSH, STACK, ASG, AMI])('%s', async (name) => {
    h = harness();
    await h.respond(sample(name));
    const sent = [...new Set(h.calls().map((c) => c.command))].sort();
    expect(sent).toEqual(TABLE.filter(([s]) => s === name).map(([, c]) => c).sort());
  });
});

const CASES = TABLE.flatMap(([name, command, expect]) => FAULTS.map((f) => [name.split('/')[1]!.replace('.json', ''), command, f, expectedFor(expect, f), name] as const));

test.each(CASES)('%s, %s fails (%s) → %s', async (_short, command, kind, expected, name) => {
  h = harness();
  const { client, command: Command } = COMMANDS[command]!;
  (h.m[client] as unknown as AwsStub<object, MetadataBearer, object>).on(Command).rejects(fault(kind, command, client));

  const summary = await h.respond(sample(name));

  expect(summary.status).toBe('processed');
  const notDone = (summary.outcomes ?? []).filter((o) => o.status !== 'done').map((o) => `${o.action}:${o.status}`);
  expect(`${summary.decision}/${notDone.join(',')}`).toBe(expected);

  const outcomes = summary.outcomes ?? [];
  const failed = outcomes.filter((o) => o.status === 'failed' && o.action !== 'notify');
  const notifyFailed = outcomes.some((o) => o.action === 'notify' && o.status === 'failed');
  if (notifyFailed) {
    // The alert itself could not go out: the summary (logged, and the invocation's result) says so.
    expect(outcomes.find((o) => o.action === 'notify')!.detail).toMatch(/could not publish the alert/);
  } else if (failed.length > 0) {
    // Every failed step is in the response alert as failed, or in the follow-up that says what was not done.
    const docs = h.published().map(alertDocument);
    for (const f of failed) {
      const inResponse = docs.some((d) => d.kind !== 'incomplete' && d.steps.some((s) => s.action === f.action && s.status === 'failed'));
      const inFollowUp = docs.some((d) => d.kind === 'incomplete' && JSON.stringify(d).includes(`${f.action} ${f.resource} not done`));
      expect({ step: f.action, reported: inResponse || inFollowUp }).toEqual({ step: f.action, reported: true });
    }
  }
  // A failed isolation (the instance still on the network) stops detach, replace and terminate.
  const isolation = outcomes.find((o) => o.action === 'isolate-instance');
  if (isolation?.status === 'failed' && !/^isolated /.test(isolation.detail)) {
    expect(h.m.autoScaling).not.toHaveReceivedCommand(DetachInstancesCommand);
    expect(h.m.cloudFormation).not.toHaveReceivedCommand(UpdateStackCommand);
    expect(h.m.ec2).not.toHaveReceivedCommand(ec2.TerminateInstancesCommand);
  }
  // Held or observing: no mutating call at all (the alert aside).
  if (summary.decision === 'held' || summary.decision === 'observe') expect(h.mutatingCalls({ exceptPublish: true })).toEqual([]);
});

test('a busy stack defers the replacement and says so', async () => {
  h = harness();
  h.world.stacks.get('web-prod')!.status = 'UPDATE_IN_PROGRESS';
  const summary = await h.respond(sample(STACK));
  expect(summary.outcomes?.find((o) => o.action === 'replace')).toMatchObject({ status: 'deferred', detail: expect.stringContaining('stack busy') });
  expect(h.m.cloudFormation).not.toHaveReceivedCommand(UpdateStackCommand);
});

test('reads failing (DescribeInstances AccessDenied) hold the decision, send no mutation, and the alert says why', async () => {
  h = harness();
  h.m.ec2.on(ec2.DescribeInstancesCommand).rejects(fault('denied', 'DescribeInstancesCommand', 'ec2'));
  const summary = await h.respond(sample(STACK));
  expect(summary.decision).toBe('held');
  expect(h.mutatingCalls({ exceptPublish: true })).toEqual([]);
  expect(JSON.stringify(summary.warnings)).toMatch(/UnauthorizedOperation/);
});
