import { DescribeAutoScalingInstancesCommand, DetachInstancesCommand } from '@aws-sdk/client-auto-scaling';
import { DescribeStacksCommand, UpdateStackCommand, type Stack, type StackStatus } from '@aws-sdk/client-cloudformation';
import {
  CreateSecurityGroupCommand,
  CreateSnapshotCommand,
  ModifyNetworkInterfaceAttributeCommand,
  RevokeSecurityGroupEgressCommand,
  RevokeSecurityGroupIngressCommand,
  TerminateInstancesCommand,
} from '@aws-sdk/client-ec2';
import { DescribeTargetGroupsCommand } from '@aws-sdk/client-elastic-load-balancing-v2';
import { PublishCommand } from '@aws-sdk/client-sns';
import { executePlan, type ExecuteDeps } from '../../functions/aws/executor';
import { MUTATING_COMMANDS } from '../../functions/aws/iam';
import { REPLACEMENT_PARAMETER } from '../../functions/aws/steps/replace';
import type { Plan, Step } from '../../functions/core/decision';
import { defaultPolicy } from '../../functions/core/policy/schema';
import {
  ADMIN_SG,
  ASG,
  ENI_PRIMARY,
  ENI_SECONDARY,
  INSTANCE,
  ISOLATION_SG,
  STACK,
  STACK_ID,
  STACK_ROLE,
  TOPIC,
  UNTRACK_SG,
  VOL_DATA,
  VOL_ROOT,
  awsError,
  commandNames,
  ec2World,
  event,
  finding,
  fixedNow,
  mocks,
  noSleep,
  outcomeOf,
  plan,
  sentCalls,
  steps,
  testClients,
  type Mocks,
} from './fixtures';

const deps = (overrides: Partial<ExecuteDeps> = {}): ExecuteDeps => ({
  clients: testClients(),
  event: event(),
  policy: defaultPolicy(),
  mutate: true,
  notify: true,
  topicArn: TOPIC,
  now: fixedNow,
  sleep: noSleep,
  ...overrides,
});

const stack = (status = 'UPDATE_COMPLETE'): Stack => ({
  StackName: STACK,
  StackId: STACK_ID,
  StackStatus: status as StackStatus,
  CreationTime: new Date('2026-01-01T00:00:00Z'),
  RoleARN: STACK_ROLE,
  Parameters: [{ ParameterKey: REPLACEMENT_PARAMETER, ParameterValue: 'initial' }],
});

const instancePlan = (extra: Step[], overrides: Partial<Plan> = {}): Plan =>
  plan([steps.isolate(), steps.snapshot(), steps.tag(), ...extra], {
    decision: 'replace',
    mode: 'replace',
    severity: 'HIGH',
    findings: [finding({ id: 'instance-manual-change:evt-0002', rule: 'instance-manual-change', severity: 'HIGH', summary: 'instance changed by hand', resources: [{ type: 'instance', id: INSTANCE }] })],
    resources: [{ type: 'instance', id: INSTANCE }],
    ...overrides,
  });

const standalonePlan = () => instancePlan([steps.notify(), steps.replaceStack(), steps.terminate()]);
const asgPlan = () => instancePlan([steps.detach({ autoScalingGroup: ASG }), steps.notify(), steps.replaceAsg(), steps.terminate()]);

/** The messages published, parsed: kind attribute and email text. */
const published = (m: Mocks) =>
  m.sns.commandCalls(PublishCommand).map((c) => ({
    kind: c.args[0].input.MessageAttributes?.kind?.StringValue,
    email: (JSON.parse(c.args[0].input.Message!) as { email: string }).email,
  }));

describe('executePlan', () => {
  let m: Mocks;
  beforeEach(() => {
    m = mocks();
    m.sns.on(PublishCommand).resolves({ MessageId: 'msg-1' });
  });
  afterEach(() => Object.values(m).forEach((mock) => mock.restore()));

  describe('SSH opened to the world by hand', () => {
    it('revokes only that rule, then alerts, and measures event → containment', async () => {
      m.ec2.on(RevokeSecurityGroupIngressCommand).resolves({ Return: true, RevokedSecurityGroupRules: [{ SecurityGroupRuleId: 'sgr-0ssh000000000001' }] });
      const result = await executePlan(plan([steps.revoke(), { ...steps.notify(), resource: ADMIN_SG }]), deps());
      expect(commandNames(m)).toEqual(['RevokeSecurityGroupIngressCommand', 'PublishCommand']);
      expect(m.ec2).toHaveReceivedCommandWith(RevokeSecurityGroupIngressCommand, { GroupId: ADMIN_SG, SecurityGroupRuleIds: ['sgr-0ssh000000000001'] });
      expect(result.outcomes.map((o) => o.status)).toEqual(['done', 'done']);
      expect(result.containedAt).toBe('2026-03-02T10:00:04.200Z');
      expect(result.containmentMs).toBe(4200);
    });
  });

  describe('a standalone instance in a stack', () => {
    it('isolates, snapshots both volumes, tags, alerts, then updates the stack; termination waits for the watcher', async () => {
      const world = ec2World(m);
      m.cloudFormation.on(DescribeStacksCommand).resolves({ Stacks: [stack()] });
      m.cloudFormation.on(UpdateStackCommand).resolves({ StackId: STACK_ID });
      m.elbv2.on(DescribeTargetGroupsCommand).resolves({ TargetGroups: [] });

      const result = await executePlan(standalonePlan(), deps());

      expect(m.ec2).toHaveReceivedCommandWith(CreateSecurityGroupCommand, { GroupName: 'driftwarden-isolation-vpc-0a1b2c3d' });
      expect(m.ec2).toHaveReceivedCommandWith(RevokeSecurityGroupEgressCommand, { GroupId: ISOLATION_SG });
      const names = commandNames(m);
      const moves = sentCalls(m).filter((c) => c.command === 'ModifyNetworkInterfaceAttributeCommand').map((c) => `${c.input.NetworkInterfaceId}>${(c.input.Groups as string[])[0]}`);
      expect(moves.slice(0, 2).sort()).toEqual([`${ENI_PRIMARY}>${UNTRACK_SG}`, `${ENI_SECONDARY}>${UNTRACK_SG}`]);
      expect(moves.slice(2).sort()).toEqual([`${ENI_PRIMARY}>${ISOLATION_SG}`, `${ENI_SECONDARY}>${ISOLATION_SG}`]);
      // Containment before evidence, evidence and alert before the stack update.
      const lastMove = names.lastIndexOf('ModifyNetworkInterfaceAttributeCommand');
      expect(names.indexOf('CreateSnapshotCommand')).toBeGreaterThan(lastMove);
      expect(names.indexOf('PublishCommand')).toBeGreaterThan(lastMove);
      expect(names.indexOf('UpdateStackCommand')).toBeGreaterThan(Math.max(names.lastIndexOf('CreateSnapshotCommand'), names.indexOf('PublishCommand')));
      expect(m.ec2).toHaveReceivedCommandWith(CreateSnapshotCommand, { VolumeId: VOL_ROOT });
      expect(m.ec2).toHaveReceivedCommandWith(CreateSnapshotCommand, { VolumeId: VOL_DATA });
      expect(m.cloudFormation).toHaveReceivedCommandWith(UpdateStackCommand, {
        StackName: STACK_ID,
        UsePreviousTemplate: true,
        RoleARN: STACK_ROLE,
        ClientRequestToken: 'driftwarden-evt-0002',
        Parameters: [{ ParameterKey: REPLACEMENT_PARAMETER, ParameterValue: expect.stringMatching(/^dw-[0-9a-f]{24}$/) }],
      });
      expect(m.ec2).not.toHaveReceivedCommand(TerminateInstancesCommand);
      expect(result.outcomes.map((o) => `${o.action}:${o.status}`)).toEqual([
        'isolate-instance:done',
        'snapshot-volumes:done',
        'tag:done',
        'notify:done',
        'replace:done',
        'terminate:deferred',
      ]);
      expect(world.instance().Tags).toEqual(expect.arrayContaining([{ Key: 'driftwarden:quarantined', Value: 'instance-manual-change:evt-0002' }]));
      expect(published(m)).toHaveLength(1);
    });

    it('shows the evidence steps as in progress in the alert it sends while they run', async () => {
      ec2World(m);
      m.cloudFormation.on(DescribeStacksCommand).resolves({ Stacks: [stack()] });
      m.cloudFormation.on(UpdateStackCommand).resolves({ StackId: STACK_ID });
      await executePlan(standalonePlan(), deps());
      const machine = JSON.parse(JSON.parse(m.sns.commandCalls(PublishCommand)[0]!.args[0].input.Message!).sqs) as { steps: { action: string; status: string }[] };
      const status = Object.fromEntries(machine.steps.map((s) => [s.action, s.status]));
      expect(status['isolate-instance']).toBe('done');
      expect(status['snapshot-volumes']).toBe('deferred');
      expect(status.replace).toBe('deferred');
    });
  });

  describe('an Auto Scaling member', () => {
    it('is isolated, snapshotted, tagged and detached without decrementing capacity; the stack is never updated', async () => {
      ec2World(m);
      m.autoScaling.on(DescribeAutoScalingInstancesCommand).resolves({ AutoScalingInstances: [{ InstanceId: INSTANCE, AutoScalingGroupName: ASG, LifecycleState: 'InService' } as never] });
      m.autoScaling.on(DetachInstancesCommand).resolves({});
      m.elbv2.on(DescribeTargetGroupsCommand).resolves({ TargetGroups: [] });

      const result = await executePlan(asgPlan(), deps());

      expect(m.autoScaling).toHaveReceivedCommandWith(DetachInstancesCommand, { AutoScalingGroupName: ASG, InstanceIds: [INSTANCE], ShouldDecrementDesiredCapacity: false });
      expect(m.cloudFormation.calls()).toHaveLength(0);
      expect(m.ec2).toHaveReceivedCommandTimes(CreateSnapshotCommand, 2);
      expect(outcomeOf(result.outcomes, 'replace')).toMatchObject({ status: 'done', detail: expect.stringContaining('replaced by its Auto Scaling group') });
      const names = commandNames(m);
      expect(names.indexOf('DetachInstancesCommand')).toBeGreaterThan(names.lastIndexOf('ModifyNetworkInterfaceAttributeCommand'));
    });
  });

  describe('a launch-time finding (unapproved AMI)', () => {
    it('is contained and its evidence kept, but not replaced or terminated', async () => {
      ec2World(m);
      const launch = plan([steps.isolate(), steps.snapshot(), steps.tag(), steps.notify()], {
        decision: 'contain',
        findings: [finding({ id: 'unapproved-ami:evt-0003', rule: 'unapproved-ami', severity: 'HIGH', launchTime: true, launchSource: 'launch template lt-0abc', summary: 'unapproved AMI' })],
        humanActions: ['fix launch template lt-0abc'],
      });
      const result = await executePlan(launch, deps());
      expect(result.containmentMs).toBe(4200);
      expect(m.ec2).toHaveReceivedCommandTimes(ModifyNetworkInterfaceAttributeCommand, 4);
      expect(m.cloudFormation.calls()).toHaveLength(0);
      expect(m.autoScaling.calls()).toHaveLength(0);
      expect(m.ec2).not.toHaveReceivedCommand(TerminateInstancesCommand);
      expect(result.outcomes.every((o) => o.status === 'done')).toBe(true);
    });
  });

  describe('when calls fail', () => {
    it('a throttled snapshot (retries exhausted) fails that step, the rest goes on, and ONE follow-up alert says what was not done', async () => {
      ec2World(m);
      m.ec2.on(CreateSnapshotCommand).rejects(awsError('ThrottlingException', 'Rate exceeded'));
      m.cloudFormation.on(DescribeStacksCommand).resolves({ Stacks: [stack()] });
      m.cloudFormation.on(UpdateStackCommand).resolves({ StackId: STACK_ID });

      const result = await executePlan(standalonePlan(), deps());

      expect(outcomeOf(result.outcomes, 'snapshot-volumes')).toMatchObject({ status: 'failed', errorName: 'ThrottlingException' });
      expect(outcomeOf(result.outcomes, 'replace').status).toBe('done');
      const alerts = published(m);
      expect(alerts.map((a) => a.kind)).toEqual(['response', 'incomplete']);
      expect(alerts[1]!.email).toContain('snapshot-volumes');
      expect(alerts[1]!.email).toContain('ThrottlingException');
      expect(result.outcomes.at(-1)).toMatchObject({ action: 'notify', status: 'done', produced: { kind: 'incomplete' } });
    });

    it('an isolation that is refused (UnauthorizedOperation) stops replacement and termination, and nothing is contained', async () => {
      ec2World(m);
      m.ec2.on(ModifyNetworkInterfaceAttributeCommand).rejects(awsError('UnauthorizedOperation', 'You are not authorized to perform this operation.'));
      const result = await executePlan(
        instancePlan([steps.detach({ autoScalingGroup: ASG }), steps.notify(), steps.replaceStack(), steps.terminate({ when: 'now', holdSeconds: 0 })]),
        deps(),
      );
      expect(outcomeOf(result.outcomes, 'isolate-instance')).toMatchObject({ status: 'failed', errorName: 'UnauthorizedOperation' });
      for (const action of ['detach', 'replace', 'terminate'] as const) {
        expect(outcomeOf(result.outcomes, action)).toMatchObject({ status: 'skipped', detail: expect.stringContaining('isolating') });
      }
      expect(m.cloudFormation.calls()).toHaveLength(0);
      expect(m.autoScaling.calls()).toHaveLength(0);
      expect(m.ec2).not.toHaveReceivedCommand(TerminateInstancesCommand);
      expect(result.containedAt).toBeUndefined();
      // The alert already said the isolation failed: no follow-up.
      expect(published(m).map((a) => a.kind)).toEqual(['response']);
    });

    it('a busy stack defers the replacement (the sweeper retries) and the termination waits', async () => {
      ec2World(m);
      m.cloudFormation.on(DescribeStacksCommand).resolves({ Stacks: [stack('UPDATE_IN_PROGRESS')] });
      const result = await executePlan(standalonePlan(), deps());
      expect(outcomeOf(result.outcomes, 'replace')).toMatchObject({ status: 'deferred', detail: expect.stringContaining('stack busy: retry later') });
      expect(outcomeOf(result.outcomes, 'terminate').status).toBe('skipped');
      expect(m.cloudFormation).not.toHaveReceivedCommand(UpdateStackCommand);
    });

    it('"No updates are to be performed" is already done, and no follow-up is sent', async () => {
      ec2World(m);
      m.cloudFormation.on(DescribeStacksCommand).resolves({ Stacks: [stack()] });
      m.cloudFormation.on(UpdateStackCommand).rejects(awsError('ValidationError', 'No updates are to be performed.'));
      const result = await executePlan(standalonePlan(), deps());
      expect(outcomeOf(result.outcomes, 'replace')).toMatchObject({ status: 'already-done', detail: expect.stringContaining('No updates are to be performed') });
      expect(published(m)).toHaveLength(1);
    });

    it('a stack that is not found fails "cannot replace", and the follow-up says so', async () => {
      ec2World(m);
      m.cloudFormation.on(DescribeStacksCommand).rejects(awsError('ValidationError', `Stack with id ${STACK} does not exist`));
      const result = await executePlan(standalonePlan(), deps());
      expect(outcomeOf(result.outcomes, 'replace')).toMatchObject({ status: 'failed', detail: expect.stringContaining('cannot replace') });
      const alerts = published(m);
      expect(alerts.map((a) => a.kind)).toEqual(['response', 'incomplete']);
      expect(alerts[1]!.email).toContain('cannot replace');
    });

    it('a refused detach (AccessDenied) fails the detach and the group replacement, and the follow-up lists both', async () => {
      ec2World(m);
      m.autoScaling.on(DescribeAutoScalingInstancesCommand).resolves({ AutoScalingInstances: [{ InstanceId: INSTANCE, AutoScalingGroupName: ASG, LifecycleState: 'InService' } as never] });
      m.autoScaling.on(DetachInstancesCommand).rejects(awsError('AccessDenied', 'not authorized to perform autoscaling:DetachInstances'));
      m.elbv2.on(DescribeTargetGroupsCommand).resolves({ TargetGroups: [] });
      const result = await executePlan(asgPlan(), deps());
      expect(outcomeOf(result.outcomes, 'detach')).toMatchObject({ status: 'failed', errorName: 'AccessDenied' });
      expect(outcomeOf(result.outcomes, 'replace')).toMatchObject({ status: 'failed' });
      const followUp = published(m)[1]!;
      expect(followUp.kind).toBe('incomplete');
      expect(followUp.email).toContain('detach');
      expect(followUp.email).toContain('replace');
    });
  });

  describe('dry run', () => {
    const everyStep = (): Plan =>
      instancePlan([], {
        steps: [
          steps.revoke(),
          steps.isolate(),
          steps.snapshot(),
          steps.tag(),
          steps.detach({ autoScalingGroup: ASG, targetGroupArns: ['arn:tg'] }),
          steps.notify(),
          steps.replaceStack(),
          steps.terminate({ when: 'now', holdSeconds: 0, force: true }),
        ],
      });
    const mutatingSent = (mm: Mocks) => sentCalls(mm).filter((c) => (MUTATING_COMMANDS as readonly string[]).includes(c.command));

    it('sends no mutating command to any client for any step type when mutate is false', async () => {
      ec2World(m);
      const result = await executePlan(everyStep(), deps({ mutate: false, notify: false }));
      expect(mutatingSent(m)).toEqual([]);
      expect(result.outcomes).toHaveLength(8);
      expect(result.outcomes.every((o) => o.status === 'skipped' && o.detail.startsWith('dry run'))).toBe(true);
      expect(result.containedAt).toBeUndefined();
    });

    it('sends no mutating command when the plan itself is a dry run, even with mutate true', async () => {
      ec2World(m);
      await executePlan({ ...everyStep(), dryRun: true }, deps({ mutate: true, notify: false }));
      expect(mutatingSent(m)).toEqual([]);
    });

    it('publishes the alert and nothing else when only notifying (observe)', async () => {
      ec2World(m);
      await executePlan(everyStep(), deps({ mutate: false, notify: true }));
      expect(mutatingSent(m).map((c) => c.command)).toEqual(['PublishCommand']);
    });
  });
});
