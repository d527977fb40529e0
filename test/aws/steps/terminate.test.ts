import { DescribeInstanceAttributeCommand, DescribeInstancesCommand, ModifyInstanceAttributeCommand, TerminateInstancesCommand } from '@aws-sdk/client-ec2';
import { run, terminateInstance } from '../../../functions/aws/steps/terminate';
import { INSTANCE, awsError, instance, mocks, plan, stepContext, steps, testClients, type Mocks } from '../fixtures';

describe('terminate', () => {
  let m: Mocks;
  beforeEach(() => {
    m = mocks();
  });
  afterEach(() => Object.values(m).forEach((mock) => mock.restore()));
  const world = (tags: Record<string, string>, protection: boolean) => {
    m.ec2.on(DescribeInstancesCommand).resolves({ Reservations: [{ Instances: [instance({}, tags)] }] });
    m.ec2.on(DescribeInstanceAttributeCommand).resolves({ DisableApiTermination: { Value: protection } });
    m.ec2.on(ModifyInstanceAttributeCommand).resolves({});
    m.ec2.on(TerminateInstancesCommand).resolves({});
  };

  it('defers termination after replacement to the watcher, sending nothing', async () => {
    const step = steps.terminate();
    const outcome = await run(step, stepContext(testClients(), plan([step])));
    expect(outcome.status).toBe('deferred');
    expect(m.ec2.calls()).toHaveLength(0);
  });

  it('lifts the protection driftwarden set, then terminates', async () => {
    world({ 'driftwarden:protection-set': 'true' }, true);
    const step = steps.terminate({ when: 'now', holdSeconds: 0 });
    const outcome = await run(step, stepContext(testClients(), plan([step])));
    expect(m.ec2).toHaveReceivedCommandWith(ModifyInstanceAttributeCommand, { InstanceId: INSTANCE, DisableApiTermination: { Value: false } });
    expect(m.ec2).toHaveReceivedCommandWith(TerminateInstancesCommand, { InstanceIds: [INSTANCE] });
    expect(outcome.status).toBe('done');
  });

  it('respects termination protection set by someone else', async () => {
    world({}, true);
    const outcome = await terminateInstance(INSTANCE, { clients: testClients() }, { force: false });
    expect(outcome.status).toBe('failed');
    expect(outcome.detail).toContain('termination protection set by someone else');
    expect(m.ec2).not.toHaveReceivedCommand(ModifyInstanceAttributeCommand);
    expect(m.ec2).not.toHaveReceivedCommand(TerminateInstancesCommand);
  });

  it('lifts someone else\'s protection only when forced', async () => {
    world({}, true);
    const outcome = await terminateInstance(INSTANCE, { clients: testClients() }, { force: true });
    expect(outcome.status).toBe('done');
    expect(m.ec2).toHaveReceivedCommand(TerminateInstancesCommand);
  });

  it('is already done when the instance is gone', async () => {
    m.ec2.on(DescribeInstancesCommand).rejects(awsError('InvalidInstanceID.NotFound'));
    const outcome = await terminateInstance(INSTANCE, { clients: testClients() }, { force: false });
    expect(outcome.status).toBe('already-done');
    expect(m.ec2).not.toHaveReceivedCommand(TerminateInstancesCommand);
  });
});
