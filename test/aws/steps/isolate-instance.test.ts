import {
  AuthorizeSecurityGroupEgressCommand,
  AuthorizeSecurityGroupIngressCommand,
  CreateSecurityGroupCommand,
  CreateTagsCommand,
  ModifyInstanceAttributeCommand,
  ModifyNetworkInterfaceAttributeCommand,
  RevokeSecurityGroupEgressCommand,
  RevokeSecurityGroupIngressCommand,
} from '@aws-sdk/client-ec2';
import { decodeOriginalGroups, encodeOriginalGroups } from '../../../functions/aws/instances';
import { run } from '../../../functions/aws/steps/isolate-instance';
import {
  ADMIN_SG,
  APP_SG,
  ENI_PRIMARY,
  ENI_SECONDARY,
  INSTANCE,
  ISOLATION_SG,
  UNTRACK_SG,
  VPC,
  awsError,
  commandNames,
  ec2World,
  instance,
  mocks,
  plan,
  sentCalls,
  stepContext,
  steps,
  testClients,
  type Mocks,
} from '../fixtures';

describe('isolate-instance', () => {
  let m: Mocks;
  beforeEach(() => {
    m = mocks();
  });
  afterEach(() => Object.values(m).forEach((mock) => mock.restore()));

  const isolate = (overrides = {}) => {
    const step = steps.isolate(overrides);
    return run(step, stepContext(testClients(), plan([step])));
  };

  it('creates the isolation group when missing, tagged, in the VPC, and revokes its default egress rule', async () => {
    ec2World(m);
    const outcome = await isolate();
    expect(m.ec2).toHaveReceivedCommandWith(CreateSecurityGroupCommand, {
      GroupName: `driftwarden-isolation-${VPC}`,
      VpcId: VPC,
      TagSpecifications: [
        {
          ResourceType: 'security-group',
          Tags: expect.arrayContaining([{ Key: 'driftwarden:isolation', Value: 'true' }]),
        },
      ],
    });
    expect(m.ec2).toHaveReceivedCommandWith(RevokeSecurityGroupEgressCommand, {
      GroupId: ISOLATION_SG,
      SecurityGroupRuleIds: [`sgr-default-${ISOLATION_SG}`],
    });
    expect(outcome.status).toBe('done');
    expect(outcome.produced).toMatchObject({ isolationGroupId: ISOLATION_SG, untrackGroupId: UNTRACK_SG, isolated: true });
  });

  it('moves EVERY interface into the allow-all group first, then into the isolation group', async () => {
    ec2World(m, { isolationExists: true, untrackExists: true });
    await isolate();
    const moves = sentCalls(m)
      .filter((c) => c.command === 'ModifyNetworkInterfaceAttributeCommand')
      .map((c) => [c.input.NetworkInterfaceId, c.input.Groups]);
    expect(moves.slice(0, 2)).toEqual(
      expect.arrayContaining([
        [ENI_PRIMARY, [UNTRACK_SG]],
        [ENI_SECONDARY, [UNTRACK_SG]],
      ]),
    );
    expect(moves.slice(2)).toEqual(
      expect.arrayContaining([
        [ENI_PRIMARY, [ISOLATION_SG]],
        [ENI_SECONDARY, [ISOLATION_SG]],
      ]),
    );
    expect(moves).toHaveLength(4);
  });

  it('records the original groups as a tag BEFORE the first move', async () => {
    ec2World(m, { isolationExists: true, untrackExists: true });
    await isolate();
    const names = commandNames(m);
    const recordAt = names.indexOf('CreateTagsCommand');
    expect(recordAt).toBeGreaterThan(-1);
    expect(recordAt).toBeLessThan(names.indexOf('ModifyNetworkInterfaceAttributeCommand'));
    expect(m.ec2).toHaveReceivedCommandWith(CreateTagsCommand, {
      Resources: [INSTANCE],
      Tags: expect.arrayContaining([
        { Key: 'driftwarden:original-groups', Value: JSON.stringify({ [ENI_PRIMARY]: [APP_SG], [ENI_SECONDARY]: [APP_SG, ADMIN_SG] }) },
        { Key: 'driftwarden:protection-set', Value: 'true' },
        { Key: 'driftwarden:original-shutdown-behavior', Value: 'terminate' },
      ]),
    });
  });

  it('says that flows tracked by a NAT gateway or NLB may survive', async () => {
    ec2World(m, { isolationExists: true, untrackExists: true });
    const outcome = await isolate();
    expect(outcome.detail).toMatch(/NAT gateway or a Network Load Balancer may survive/);
  });

  it('puts the forensic hold on: termination protection and shutdown behaviour stop', async () => {
    ec2World(m, { isolationExists: true, untrackExists: true });
    await isolate();
    expect(m.ec2).toHaveReceivedCommandWith(ModifyInstanceAttributeCommand, { InstanceId: INSTANCE, DisableApiTermination: { Value: true } });
    expect(m.ec2).toHaveReceivedCommandWith(ModifyInstanceAttributeCommand, { InstanceId: INSTANCE, InstanceInitiatedShutdownBehavior: { Value: 'stop' } });
  });

  it('does not claim protection it did not set: no protection-set tag when protection was already on', async () => {
    ec2World(m, { isolationExists: true, untrackExists: true, terminationProtection: true, shutdownBehavior: 'stop' });
    await isolate();
    const tags = m.ec2.commandCalls(CreateTagsCommand).flatMap((c) => c.args[0].input.Tags ?? []).map((t) => t.Key);
    expect(tags).toContain('driftwarden:original-groups');
    expect(tags).not.toContain('driftwarden:protection-set');
    expect(m.ec2).not.toHaveReceivedCommand(ModifyInstanceAttributeCommand);
  });

  it('repairs an isolation group with a spoofed rule before using it', async () => {
    ec2World(m, {
      isolationExists: true,
      untrackExists: true,
      isolationRules: [
        { SecurityGroupRuleId: 'sgr-0spoofin', GroupId: ISOLATION_SG, IsEgress: false, IpProtocol: 'tcp', FromPort: 22, ToPort: 22, CidrIpv4: '0.0.0.0/0' },
        { SecurityGroupRuleId: 'sgr-0spoofout', GroupId: ISOLATION_SG, IsEgress: true, IpProtocol: '-1', CidrIpv4: '0.0.0.0/0' },
      ],
    });
    const outcome = await isolate();
    expect(m.ec2).toHaveReceivedCommandWith(RevokeSecurityGroupIngressCommand, { GroupId: ISOLATION_SG, SecurityGroupRuleIds: ['sgr-0spoofin'] });
    expect(m.ec2).toHaveReceivedCommandWith(RevokeSecurityGroupEgressCommand, { GroupId: ISOLATION_SG, SecurityGroupRuleIds: ['sgr-0spoofout'] });
    const names = commandNames(m);
    expect(names.indexOf('RevokeSecurityGroupIngressCommand')).toBeLessThan(names.indexOf('ModifyNetworkInterfaceAttributeCommand'));
    expect(outcome.produced?.isolationGroupRepaired).toEqual(['sgr-0spoofin', 'sgr-0spoofout']);
  });

  it('is already done when every interface has only the isolation group (and the group is still checked)', async () => {
    const isolated = instance({
      NetworkInterfaces: [
        { NetworkInterfaceId: ENI_PRIMARY, Groups: [{ GroupId: ISOLATION_SG }] },
        { NetworkInterfaceId: ENI_SECONDARY, Groups: [{ GroupId: ISOLATION_SG }] },
      ],
    });
    ec2World(m, { isolationExists: true, untrackExists: true, instance: isolated, terminationProtection: true, shutdownBehavior: 'stop' });
    const outcome = await isolate();
    expect(outcome.status).toBe('already-done');
    expect(m.ec2).not.toHaveReceivedCommand(ModifyNetworkInterfaceAttributeCommand);
    expect(commandNames(m)).toContain('DescribeSecurityGroupRulesCommand');
  });

  it('puts the interfaces back when the second move fails, never leaving them in the allow-all group', async () => {
    ec2World(m, { isolationExists: true, untrackExists: true });
    m.ec2
      .on(ModifyNetworkInterfaceAttributeCommand, { Groups: [ISOLATION_SG] })
      .rejects(awsError('UnauthorizedOperation', 'not allowed'));
    const outcome = await isolate();
    expect(outcome.status).toBe('failed');
    expect(outcome.errorName).toBe('UnauthorizedOperation');
    expect(m.ec2).toHaveReceivedCommandWith(ModifyNetworkInterfaceAttributeCommand, { NetworkInterfaceId: ENI_SECONDARY, Groups: [APP_SG, ADMIN_SG] });
    expect(outcome.detail).toContain('original groups were put back');
  });

  it('fails, and moves nothing, when the isolation group cannot be created', async () => {
    ec2World(m);
    m.ec2.on(CreateSecurityGroupCommand).rejects(awsError('UnauthorizedOperation'));
    const outcome = await isolate();
    expect(outcome.status).toBe('failed');
    expect(m.ec2).not.toHaveReceivedCommand(ModifyNetworkInterfaceAttributeCommand);
  });

  it('creates the allow-all group with all traffic in and out, adding only what its default egress lacks', async () => {
    ec2World(m, { isolationExists: true });
    await isolate();
    expect(m.ec2).toHaveReceivedCommandWith(AuthorizeSecurityGroupIngressCommand, {
      GroupId: UNTRACK_SG,
      IpPermissions: [expect.objectContaining({ IpProtocol: '-1', IpRanges: [expect.objectContaining({ CidrIp: '0.0.0.0/0' })], Ipv6Ranges: [expect.objectContaining({ CidrIpv6: '::/0' })] })],
    });
    const egress = m.ec2.commandCalls(AuthorizeSecurityGroupEgressCommand)[0]!.args[0].input.IpPermissions![0]!;
    expect(egress.IpRanges).toBeUndefined();
    expect(egress.Ipv6Ranges).toEqual([expect.objectContaining({ CidrIpv6: '::/0' })]);
  });

  it('splits an original-groups record that does not fit one tag, and reads it back', () => {
    const many = Object.fromEntries(Array.from({ length: 8 }, (_, i) => [`eni-0${i}aaaaaaaaaaaaaaa`, [`sg-0${i}bbbbbbbbbbbbbbb`, `sg-0${i}ccccccccccccccc`]]));
    const tags = encodeOriginalGroups(many);
    expect(tags.length).toBeGreaterThan(1);
    expect(tags.every((t) => t.Value.length <= 256 && /^driftwarden:original-groups-\d+$/.test(t.Key))).toBe(true);
    expect(decodeOriginalGroups(Object.fromEntries(tags.map((t) => [t.Key, t.Value])))).toEqual(many);
  });
});
