import { DeleteTagsCommand, DescribeInstanceAttributeCommand, ModifyInstanceAttributeCommand, ModifyNetworkInterfaceAttributeCommand } from '@aws-sdk/client-ec2';
import { releaseInstance } from '../../../functions/aws/steps/release';
import { run as isolate } from '../../../functions/aws/steps/isolate-instance';
import { run as tag } from '../../../functions/aws/steps/tag';
import { ADMIN_SG, APP_SG, awsError, ENI_PRIMARY, ENI_SECONDARY, INSTANCE, ec2World, mocks, plan, stepContext, steps, testClients, type Mocks } from '../fixtures';

describe('release', () => {
  let m: Mocks;
  beforeEach(() => {
    m = mocks();
  });
  afterEach(() => Object.values(m).forEach((mock) => mock.restore()));

  it('restores what isolation recorded: the groups of each interface, the protection it set, the shutdown behaviour, and removes the quarantine tags', async () => {
    const world = ec2World(m, { isolationExists: true, untrackExists: true, terminationProtection: false, shutdownBehavior: 'terminate' });
    const isolateStep = steps.isolate();
    const tagStep = steps.tag();
    await isolate(isolateStep, stepContext(testClients(), plan([isolateStep])));
    await tag(tagStep, stepContext(testClients(), plan([tagStep])));
    // Isolation turned protection on; the mock's attributes are fixed, so answer that from now on.
    m.ec2.resetHistory();
    m.ec2.on(DescribeInstanceAttributeCommand).resolves({ DisableApiTermination: { Value: true } });
    m.ec2.on(DeleteTagsCommand).resolves({});

    const outcomes = await releaseInstance(INSTANCE, testClients());

    expect(m.ec2).toHaveReceivedCommandWith(ModifyNetworkInterfaceAttributeCommand, { NetworkInterfaceId: ENI_PRIMARY, Groups: [APP_SG] });
    expect(m.ec2).toHaveReceivedCommandWith(ModifyNetworkInterfaceAttributeCommand, { NetworkInterfaceId: ENI_SECONDARY, Groups: [APP_SG, ADMIN_SG] });
    expect(m.ec2).toHaveReceivedCommandWith(ModifyInstanceAttributeCommand, { InstanceId: INSTANCE, DisableApiTermination: { Value: false } });
    expect(m.ec2).toHaveReceivedCommandWith(ModifyInstanceAttributeCommand, { InstanceId: INSTANCE, InstanceInitiatedShutdownBehavior: { Value: 'terminate' } });
    const removed = m.ec2.commandCalls(DeleteTagsCommand)[0]!.args[0].input.Tags!.map((t) => t.Key).sort();
    expect(removed).toEqual([
      'driftwarden:original-groups',
      'driftwarden:original-shutdown-behavior',
      'driftwarden:protection-set',
      'driftwarden:quarantined',
      'driftwarden:quarantined-at',
      'driftwarden:reason',
    ]);
    expect(outcomes.every((o) => o.status === 'done')).toBe(true);
    expect(world.instance().NetworkInterfaces!.map((n) => n.Groups!.map((g) => g.GroupId))).toEqual([[APP_SG], [APP_SG, ADMIN_SG]]);
  });

  it('does not lift termination protection that driftwarden did not set', async () => {
    ec2World(m, { isolationExists: true, untrackExists: true, terminationProtection: true, shutdownBehavior: 'stop' });
    const isolateStep = steps.isolate();
    await isolate(isolateStep, stepContext(testClients(), plan([isolateStep])));
    m.ec2.resetHistory();
    m.ec2.on(DeleteTagsCommand).resolves({});
    await releaseInstance(INSTANCE, testClients());
    expect(m.ec2).not.toHaveReceivedCommand(ModifyInstanceAttributeCommand);
    expect(m.ec2).toHaveReceivedCommandTimes(ModifyNetworkInterfaceAttributeCommand, 2);
  });

  it('keeps the record when restoring the groups fails, so release can run again', async () => {
    ec2World(m, { isolationExists: true, untrackExists: true });
    const isolateStep = steps.isolate();
    await isolate(isolateStep, stepContext(testClients(), plan([isolateStep])));
    m.ec2.resetHistory();
    m.ec2.on(ModifyNetworkInterfaceAttributeCommand).rejects(awsError('UnauthorizedOperation'));
    const outcomes = await releaseInstance(INSTANCE, testClients());
    expect(outcomes[0]).toMatchObject({ status: 'failed', errorName: 'UnauthorizedOperation' });
    expect(m.ec2).not.toHaveReceivedCommand(DeleteTagsCommand);
  });
});
