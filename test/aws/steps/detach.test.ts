import { DescribeAutoScalingInstancesCommand, DetachInstancesCommand } from '@aws-sdk/client-auto-scaling';
import { DeregisterTargetsCommand, DescribeTargetGroupsCommand, DescribeTargetHealthCommand } from '@aws-sdk/client-elastic-load-balancing-v2';
import { run } from '../../../functions/aws/steps/detach';
import { ASG, INSTANCE, awsError, mocks, plan, stepContext, steps, testClients, type Mocks } from '../fixtures';

const TG_A = 'arn:aws:elasticloadbalancing:eu-west-1:111122223333:targetgroup/web-a/1';
const TG_B = 'arn:aws:elasticloadbalancing:eu-west-1:111122223333:targetgroup/web-b/2';

describe('detach', () => {
  let m: Mocks;
  beforeEach(() => {
    m = mocks();
  });
  afterEach(() => Object.values(m).forEach((mock) => mock.restore()));
  const detach = (overrides = {}) => {
    const step = steps.detach(overrides);
    return run(step, stepContext(testClients(), plan([step])));
  };

  it('detaches from the Auto Scaling group WITHOUT decrementing desired capacity, so the group launches a replacement', async () => {
    m.autoScaling.on(DescribeAutoScalingInstancesCommand).resolves({ AutoScalingInstances: [{ InstanceId: INSTANCE, AutoScalingGroupName: ASG, LifecycleState: 'InService' } as never] });
    m.autoScaling.on(DetachInstancesCommand).resolves({});
    m.elbv2.on(DescribeTargetGroupsCommand).resolves({ TargetGroups: [] });
    const outcome = await detach({ autoScalingGroup: ASG });
    expect(m.autoScaling).toHaveReceivedCommandWith(DetachInstancesCommand, { AutoScalingGroupName: ASG, InstanceIds: [INSTANCE], ShouldDecrementDesiredCapacity: false });
    expect(outcome.status).toBe('done');
  });

  it('is already done when the instance is no longer in the group', async () => {
    m.autoScaling.on(DescribeAutoScalingInstancesCommand).resolves({ AutoScalingInstances: [] });
    m.elbv2.on(DescribeTargetGroupsCommand).resolves({ TargetGroups: [] });
    const outcome = await detach({ autoScalingGroup: ASG });
    expect(m.autoScaling).not.toHaveReceivedCommand(DetachInstancesCommand);
    expect(outcome.status).toBe('already-done');
  });

  it('deregisters the instance from the target groups the plan names, on the port it was registered with', async () => {
    m.elbv2.on(DescribeTargetHealthCommand).resolves({ TargetHealthDescriptions: [{ Target: { Id: INSTANCE, Port: 8080 }, TargetHealth: { State: 'healthy' } }] });
    m.elbv2.on(DeregisterTargetsCommand).resolves({});
    const outcome = await detach({ targetGroupArns: [TG_A] });
    expect(m.elbv2).not.toHaveReceivedCommand(DescribeTargetGroupsCommand);
    expect(m.elbv2).toHaveReceivedCommandWith(DeregisterTargetsCommand, { TargetGroupArn: TG_A, Targets: [{ Id: INSTANCE, Port: 8080 }] });
    expect(outcome.status).toBe('done');
  });

  it('finds the target groups itself when the plan names none, and deregisters only where the instance is registered', async () => {
    m.elbv2.on(DescribeTargetGroupsCommand).resolves({
      TargetGroups: [
        { TargetGroupArn: TG_A, TargetType: 'instance' },
        { TargetGroupArn: TG_B, TargetType: 'instance' },
        { TargetGroupArn: 'arn:ip-targets', TargetType: 'ip' },
      ],
    });
    m.elbv2.on(DescribeTargetHealthCommand, { TargetGroupArn: TG_A }).resolves({
      TargetHealthDescriptions: [{ Target: { Id: INSTANCE, Port: 80 }, TargetHealth: { State: 'healthy' } }],
    });
    m.elbv2.on(DescribeTargetHealthCommand, { TargetGroupArn: TG_B }).resolves({
      TargetHealthDescriptions: [{ Target: { Id: INSTANCE }, TargetHealth: { State: 'unused', Reason: 'Target.NotRegistered' } }],
    });
    m.elbv2.on(DeregisterTargetsCommand).resolves({});
    await detach();
    expect(m.elbv2).toHaveReceivedCommandTimes(DescribeTargetHealthCommand, 2);
    expect(m.elbv2).toHaveReceivedCommandTimes(DeregisterTargetsCommand, 1);
    expect(m.elbv2).toHaveReceivedCommandWith(DeregisterTargetsCommand, { TargetGroupArn: TG_A, Targets: [{ Id: INSTANCE, Port: 80 }] });
  });

  it('fails with the error name when the detach is refused', async () => {
    m.autoScaling.on(DescribeAutoScalingInstancesCommand).resolves({ AutoScalingInstances: [{ InstanceId: INSTANCE, AutoScalingGroupName: ASG, LifecycleState: 'InService' } as never] });
    m.autoScaling.on(DetachInstancesCommand).rejects(awsError('AccessDenied', 'User is not authorized to perform: autoscaling:DetachInstances'));
    m.elbv2.on(DescribeTargetGroupsCommand).resolves({ TargetGroups: [] });
    const outcome = await detach({ autoScalingGroup: ASG });
    expect(outcome).toMatchObject({ status: 'failed', errorName: 'AccessDenied' });
    expect(outcome.detail).toContain('autoscaling:DetachInstances');
  });
});
