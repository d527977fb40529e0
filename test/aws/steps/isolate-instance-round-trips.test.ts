/**
 * The isolate step on the fast path: the plan carries what the context read knows and the
 * region's driftwarden groups come prefetched, so the step sends no read of its own, and the
 * record, the allow-all move and the forensic hold go out together before the isolation move.
 */
import {
  CreateTagsCommand,
  DescribeInstanceAttributeCommand,
  DescribeInstancesCommand,
  DescribeSecurityGroupRulesCommand,
  DescribeSecurityGroupsCommand,
  ModifyInstanceAttributeCommand,
  ModifyNetworkInterfaceAttributeCommand,
  RevokeSecurityGroupIngressCommand,
  type SecurityGroup,
} from '@aws-sdk/client-ec2';
import { run } from '../../../functions/aws/steps/isolate-instance';
import { prefetchDriftwardenGroups } from '../../../functions/aws/steps/isolation-group';
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
  mocks,
  plan,
  stepContext,
  steps,
  testClients,
  type Mocks,
} from '../fixtures';

const allowAll = [{ IpProtocol: '-1', IpRanges: [{ CidrIp: '0.0.0.0/0' }], Ipv6Ranges: [{ CidrIpv6: '::/0' }] }];
const isolationGroup = (overrides: Partial<SecurityGroup> = {}): SecurityGroup => ({
  GroupId: ISOLATION_SG,
  GroupName: `driftwarden-isolation-${VPC}`,
  VpcId: VPC,
  Tags: [{ Key: 'driftwarden:isolation', Value: 'true' }],
  IpPermissions: [],
  IpPermissionsEgress: [],
  ...overrides,
});
const untrackGroup = (overrides: Partial<SecurityGroup> = {}): SecurityGroup => ({
  GroupId: UNTRACK_SG,
  GroupName: `driftwarden-untrack-${VPC}`,
  VpcId: VPC,
  Tags: [{ Key: 'driftwarden:untrack', Value: 'true' }],
  IpPermissions: allowAll,
  IpPermissionsEgress: allowAll,
  ...overrides,
});

/** The step as plan.ts builds it from a context read: protection off, shutdown terminate, no record yet. */
const plannedStep = (overrides = {}) => steps.isolate({ terminationProtection: false, shutdownBehavior: 'terminate', driftwardenTags: {}, ...overrides });

describe('isolate-instance, with the context and the groups already read', () => {
  let m: Mocks;
  beforeEach(() => {
    m = mocks();
  });
  afterEach(() => Object.values(m).forEach((mock) => mock.restore()));

  const isolate = (step = plannedStep(), groups: SecurityGroup[] = [isolationGroup(), untrackGroup()]) =>
    run(step, stepContext(testClients(), plan([step]), { isolationGroups: Promise.resolve(groups) }));

  it('sends no read of its own: neither the instance, its attributes, nor the groups and their rules', async () => {
    ec2World(m, { isolationExists: true, untrackExists: true });
    const outcome = await isolate();
    expect(outcome.status).toBe('done');
    expect(m.ec2).not.toHaveReceivedCommand(DescribeInstancesCommand);
    expect(m.ec2).not.toHaveReceivedCommand(DescribeInstanceAttributeCommand);
    expect(m.ec2).not.toHaveReceivedCommand(DescribeSecurityGroupsCommand);
    expect(m.ec2).not.toHaveReceivedCommand(DescribeSecurityGroupRulesCommand);
  });

  it('sends the record, the allow-all moves and the forensic hold before any isolation move waits on them', async () => {
    ec2World(m, { isolationExists: true, untrackExists: true });
    let sentBeforeIsolationMove: string[] | undefined;
    m.ec2.on(ModifyNetworkInterfaceAttributeCommand, { Groups: [ISOLATION_SG] }).callsFake(() => {
      sentBeforeIsolationMove ??= commandNames(m);
      return {};
    });
    await isolate();
    expect(m.ec2).toHaveReceivedCommandTimes(ModifyNetworkInterfaceAttributeCommand, 4);
    expect(sentBeforeIsolationMove).toEqual([
      'CreateTagsCommand',
      'ModifyNetworkInterfaceAttributeCommand',
      'ModifyNetworkInterfaceAttributeCommand',
      'ModifyInstanceAttributeCommand',
      'ModifyInstanceAttributeCommand',
      'ModifyNetworkInterfaceAttributeCommand',
    ]);
    expect(m.ec2).toHaveReceivedCommandWith(CreateTagsCommand, {
      Resources: [INSTANCE],
      Tags: expect.arrayContaining([
        { Key: 'driftwarden:original-groups', Value: JSON.stringify({ [ENI_PRIMARY]: [APP_SG], [ENI_SECONDARY]: [APP_SG, ADMIN_SG] }) },
        { Key: 'driftwarden:protection-set', Value: 'true' },
        { Key: 'driftwarden:original-shutdown-behavior', Value: 'terminate' },
      ]),
    });
  });

  it('does not claim protection the context says was already on', async () => {
    ec2World(m, { isolationExists: true, untrackExists: true });
    await isolate(plannedStep({ terminationProtection: true, shutdownBehavior: 'stop' }));
    const keys = m.ec2.commandCalls(CreateTagsCommand).flatMap((c) => c.args[0].input.Tags ?? []).map((t) => t.Key);
    expect(keys).toEqual(['driftwarden:original-groups']);
    expect(m.ec2).not.toHaveReceivedCommand(ModifyInstanceAttributeCommand);
  });

  it('keeps an earlier record instead of overwriting it (a retry after a crash between the moves)', async () => {
    ec2World(m, { isolationExists: true, untrackExists: true });
    const earlier = JSON.stringify({ [ENI_PRIMARY]: ['sg-0first'], [ENI_SECONDARY]: ['sg-0first'] });
    await isolate(plannedStep({ terminationProtection: true, shutdownBehavior: 'stop', driftwardenTags: { 'driftwarden:original-groups': earlier } }));
    expect(m.ec2).not.toHaveReceivedCommand(CreateTagsCommand);
    expect(m.ec2).toHaveReceivedCommandWith(ModifyNetworkInterfaceAttributeCommand, { NetworkInterfaceId: ENI_PRIMARY, Groups: [ISOLATION_SG] });
  });

  it('never trusts a prefetched isolation group that has a rule: reads its rules and revokes them first', async () => {
    const spoofed = { SecurityGroupRuleId: 'sgr-0spoof', GroupId: ISOLATION_SG, IsEgress: false, IpProtocol: 'tcp', FromPort: 22, ToPort: 22, CidrIpv4: '0.0.0.0/0' };
    ec2World(m, { isolationExists: true, untrackExists: true, isolationRules: [spoofed] });
    const outcome = await isolate(plannedStep(), [
      isolationGroup({ IpPermissions: [{ IpProtocol: 'tcp', FromPort: 22, ToPort: 22, IpRanges: [{ CidrIp: '0.0.0.0/0' }] }] }),
      untrackGroup(),
    ]);
    expect(m.ec2).toHaveReceivedCommandWith(RevokeSecurityGroupIngressCommand, { GroupId: ISOLATION_SG, SecurityGroupRuleIds: ['sgr-0spoof'] });
    const names = commandNames(m);
    expect(names.indexOf('RevokeSecurityGroupIngressCommand')).toBeLessThan(names.indexOf('ModifyNetworkInterfaceAttributeCommand'));
    expect(outcome.produced?.isolationGroupRepaired).toEqual(['sgr-0spoof']);
  });

  it('ignores a prefetched group of the right name in another VPC, and looks its own VPC up', async () => {
    ec2World(m, { isolationExists: true, untrackExists: true });
    await isolate(plannedStep(), [isolationGroup({ VpcId: 'vpc-0other', GroupId: 'sg-0elsewhere' }), untrackGroup()]);
    expect(m.ec2).toHaveReceivedCommandWith(DescribeSecurityGroupsCommand, {
      Filters: [
        { Name: 'group-name', Values: [`driftwarden-isolation-${VPC}`] },
        { Name: 'vpc-id', Values: [VPC] },
      ],
    });
    expect(m.ec2).not.toHaveReceivedCommandWith(ModifyNetworkInterfaceAttributeCommand, { Groups: ['sg-0elsewhere'] });
    expect(m.ec2).toHaveReceivedCommandWith(ModifyNetworkInterfaceAttributeCommand, { NetworkInterfaceId: ENI_PRIMARY, Groups: [ISOLATION_SG] });
  });

  it('looks the groups up itself when the prefetch failed', async () => {
    ec2World(m, { isolationExists: true, untrackExists: true });
    const step = plannedStep();
    const failed = Promise.reject(awsError('RequestLimitExceeded'));
    const outcome = await run(step, stepContext(testClients(), plan([step]), { isolationGroups: failed }));
    expect(outcome.status).toBe('done');
    expect(m.ec2).toHaveReceivedCommandTimes(DescribeSecurityGroupRulesCommand, 2);
  });

  it('still isolates when the record cannot be written, and says release must restore the groups by hand', async () => {
    ec2World(m, { isolationExists: true, untrackExists: true });
    m.ec2.on(CreateTagsCommand).rejects(awsError('UnauthorizedOperation'));
    const outcome = await isolate();
    expect(m.ec2).toHaveReceivedCommandWith(ModifyNetworkInterfaceAttributeCommand, { NetworkInterfaceId: ENI_SECONDARY, Groups: [ISOLATION_SG] });
    expect(outcome).toMatchObject({ status: 'failed', errorName: 'UnauthorizedOperation', produced: { isolated: true, recordWritten: false } });
    expect(outcome.detail).toMatch(/^isolated /);
    expect(outcome.detail).toContain('release must restore them by hand');
    expect(outcome.detail).toContain(JSON.stringify({ [ENI_PRIMARY]: [APP_SG], [ENI_SECONDARY]: [APP_SG, ADMIN_SG] }));
  });

  it('puts back only the interfaces the first move reached when the first move fails part-way', async () => {
    ec2World(m, { isolationExists: true, untrackExists: true });
    m.ec2.on(ModifyNetworkInterfaceAttributeCommand, { NetworkInterfaceId: ENI_SECONDARY, Groups: [UNTRACK_SG] }).rejects(awsError('UnauthorizedOperation'));
    const outcome = await isolate();
    expect(outcome.status).toBe('failed');
    expect(m.ec2).toHaveReceivedCommandWith(ModifyNetworkInterfaceAttributeCommand, { NetworkInterfaceId: ENI_PRIMARY, Groups: [APP_SG] });
    expect(m.ec2).not.toHaveReceivedCommandWith(ModifyNetworkInterfaceAttributeCommand, { Groups: [ISOLATION_SG] });
    expect(outcome.detail).toContain('the original groups were put back');
  });
});

describe('prefetchDriftwardenGroups', () => {
  let m: Mocks;
  beforeEach(() => {
    m = mocks();
  });
  afterEach(() => Object.values(m).forEach((mock) => mock.restore()));

  it('asks once for every group tagged as an isolation or allow-all group, following pages', async () => {
    m.ec2.on(DescribeSecurityGroupsCommand).resolvesOnce({ SecurityGroups: [isolationGroup()], NextToken: 'page-2' }).resolvesOnce({ SecurityGroups: [untrackGroup()] });
    const groups = await prefetchDriftwardenGroups(testClients().ec2);
    expect(groups.map((g) => g.GroupId)).toEqual([ISOLATION_SG, UNTRACK_SG]);
    expect(m.ec2).toHaveReceivedNthCommandWith(1, DescribeSecurityGroupsCommand, { Filters: [{ Name: 'tag-key', Values: ['driftwarden:isolation', 'driftwarden:untrack'] }] });
    expect(m.ec2).toHaveReceivedNthCommandWith(2, DescribeSecurityGroupsCommand, { NextToken: 'page-2' });
  });
});
