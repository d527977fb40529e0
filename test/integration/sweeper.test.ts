/**
 * The built sweeper against moto_server: it pages through what exists, acts on each violation
 * exactly once however often it runs (and whether the live event or the sweep saw it first),
 * and terminates the quarantines whose forensic hold has passed.
 *
 * The sweeps run with DRIFTWARDEN_SWEEP_PAGE_SIZE=5 (EC2's smallest MaxResults), so seven
 * instances take two pages. What moto cannot show: it ignores MaxResults on
 * DescribeSecurityGroups (every group comes in one page), so the paging of groups is covered
 * by the unit tests (test/sweeper, aws-sdk-client-mock) only; and it pages DescribeInstances
 * by reservation, so the instances are launched one per reservation (world.ts).
 */
import { QueryCommand, ScanCommand } from '@aws-sdk/client-dynamodb';
import {
  DescribeSecurityGroupRulesCommand,
  DescribeSecurityGroupsCommand,
  ModifyInstanceAttributeCommand,
  CreateTagsCommand,
} from '@aws-sdk/client-ec2';
import { AuditTrail } from '../../functions/aws/state/audit';
import { ReplacementLedger } from '../../functions/aws/state/replacements';
import { sampleForMoto } from './events';
import { useMotoHarness } from './harness';
import { describeWithMoto, MOTO_ACCOUNT_ID, MOTO_REGION } from './moto';
import { createWebGroup, describeInstance, launchInstances, openSshToWorld, otherImageId, TABLES, tagValue } from './world';

const PAGE_SIZE = 5;
const SMALL_PAGES = { DRIFTWARDEN_SWEEP_PAGE_SIZE: String(PAGE_SIZE) };
const QUARANTINE_TAG = 'driftwarden:quarantined';

describeWithMoto('sweeper (built bundle) against moto_server', () => {
  const world = useMotoHarness();

  const ingressPorts = async (groupId: string) =>
    ((await world.aws.ec2.send(new DescribeSecurityGroupRulesCommand({ Filters: [{ Name: 'group-id', Values: [groupId] }] }))).SecurityGroupRules ?? [])
      .filter((r) => !r.IsEgress)
      .map((r) => r.FromPort)
      .sort();
  const idempotencyKeys = async () =>
    ((await world.aws.dynamodb.send(new ScanCommand({ TableName: TABLES.idempotency }))).Items ?? []).map((i) => i.id?.S ?? '').sort();
  const countSecurityGroups = async () => (await world.aws.ec2.send(new DescribeSecurityGroupsCommand({}))).SecurityGroups?.length ?? 0;
  /** What the sweep could change: every group's ingress ports, every instance's driftwarden tags and interface groups. */
  const observableState = async (groupIds: string[], instanceIds: string[]) => ({
    groups: await Promise.all(groupIds.map(async (id) => [id, await ingressPorts(id)])),
    instances: await Promise.all(
      instanceIds.map(async (id) => {
        const i = await describeInstance(world.aws.ec2, id);
        return {
          id,
          state: i.State?.Name,
          driftwardenTags: (i.Tags ?? []).filter((t) => t.Key?.startsWith('driftwarden:')).map((t) => `${t.Key}=${t.Value}`).sort(),
          groups: (i.NetworkInterfaces ?? []).flatMap((n) => (n.Groups ?? []).map((g) => g.GroupId)).sort(),
        };
      }),
    ),
  });

  /** Twelve web groups (two with SSH open to the world) and seven instances (one from an image the policy does not approve). */
  async function estateWithThreeViolations() {
    const groupIds: string[] = [];
    for (let n = 0; n < 12; n++) groupIds.push(await createWebGroup(world.aws.ec2, world.network.vpcId, `web-${n}`));
    const openGroups = [groupIds[3]!, groupIds[10]!];
    for (const groupId of openGroups) await openSshToWorld(world.aws.ec2, groupId);
    const approved = await launchInstances(world.aws.ec2, world.network, 6);
    const unapprovedImage = await otherImageId(world.aws.ec2, world.network);
    const [rogue] = await launchInstances(world.aws.ec2, world.network, 1, { imageId: unapprovedImage });
    const policyPath = world.writePolicy({ approvedAmiIds: [world.network.imageId] });
    return { groupIds, openGroups, approved, rogue: rogue!, instanceIds: [...approved, rogue!], policyPath };
  }

  it('pages through every group and instance and acts on each violation exactly once, however often it runs', async () => {
    const estate = await estateWithThreeViolations();
    const totalGroups = await countSecurityGroups();
    expect(estate.instanceIds.length).toBeGreaterThan(PAGE_SIZE);

    const first = await world.invokeSweeper({ policyPath: estate.policyPath, env: SMALL_PAGES });

    expect(first.error).toBeUndefined();
    const sweep = first.result!;
    expect(sweep.complete).toBe(true);
    expect(sweep.warnings).toEqual([]);
    expect(sweep.scanned).toMatchObject({ securityGroups: totalGroups, instances: estate.instanceIds.length });
    // One page of groups (moto ignores MaxResults there), two of instances: every instance was
    // read, on a page of its own size, and none twice (the counts above).
    expect(sweep.scanned.pages).toBe(1 + Math.ceil(estate.instanceIds.length / PAGE_SIZE));
    expect(sweep.violations.map((v) => v.resource).sort()).toEqual([...estate.openGroups, estate.rogue].sort());
    expect(sweep.violations.map((v) => v.response.status)).toEqual(['processed', 'processed', 'processed']);
    expect(sweep.violations.find((v) => v.resource === estate.rogue)).toMatchObject({ rules: ['unapproved-ami'], key: `launch:${estate.rogue}:unapproved-ami` });

    // The SSH rules are gone, every other rule and group untouched.
    for (const groupId of estate.groupIds) {
      expect({ groupId, ports: await ingressPorts(groupId) }).toEqual({ groupId, ports: [443] });
    }
    // The rogue instance is contained; the approved ones are not.
    const rogue = await describeInstance(world.aws.ec2, estate.rogue);
    expect(tagValue(rogue.Tags, QUARANTINE_TAG)).toBeTruthy();
    expect((rogue.NetworkInterfaces ?? []).flatMap((n) => (n.Groups ?? []).map((g) => g.GroupName))).toEqual([`driftwarden-isolation-${world.network.vpcId}`]);
    for (const id of estate.approved) expect({ id, quarantined: tagValue((await describeInstance(world.aws.ec2, id)).Tags, QUARANTINE_TAG) }).toEqual({ id, quarantined: undefined });

    // One alert per violation.
    const alerts = await world.receivedAlerts();
    expect(alerts.map((a) => a.document.resources.map((r) => r.id).find((id) => [...estate.openGroups, estate.rogue].includes(id))).sort()).toEqual(
      [...estate.openGroups, estate.rogue].sort(),
    );
    const keysAfterFirst = await idempotencyKeys();
    // One idempotency record per violation (Powertools stores the key hashed).
    expect(keysAfterFirst).toHaveLength(3);
    // Isolation created driftwarden's two groups of the VPC; the allow-all one opens every port
    // to the world on purpose, and a later sweep must leave it so.
    const ownGroups = await world.aws.ec2.send(
      new DescribeSecurityGroupsCommand({ Filters: [{ Name: 'group-name', Values: [`driftwarden-untrack-${world.network.vpcId}`, `driftwarden-isolation-${world.network.vpcId}`] }] }),
    );
    const ownGroupIds = (ownGroups.SecurityGroups ?? []).map((g) => g.GroupId!);
    expect(ownGroupIds).toHaveLength(2);
    const stateAfterFirst = await observableState([...estate.groupIds, ...ownGroupIds], estate.instanceIds);

    const second = await world.invokeSweeper({ policyPath: estate.policyPath, env: SMALL_PAGES });

    expect(second.error).toBeUndefined();
    expect(second.result).toMatchObject({ complete: true, violations: [], scanned: { securityGroups: totalGroups + 2, instances: estate.instanceIds.length } });
    expect(await world.receivedAlerts()).toEqual([]);
    expect(await idempotencyKeys()).toEqual(keysAfterFirst);
    expect(await observableState([...estate.groupIds, ...ownGroupIds], estate.instanceIds)).toEqual(stateAfterFirst);
  });

  it('acts once on each violation when two sweeps run at the same time', async () => {
    const estate = await estateWithThreeViolations();

    const runs = await Promise.all([1, 2].map(() => world.invokeSweeper({ policyPath: estate.policyPath, env: SMALL_PAGES })));

    for (const run of runs) expect(run.error).toBeUndefined();
    const processed = runs.flatMap((r) => r.result!.violations.filter((v) => v.response.status === 'processed').map((v) => v.resource));
    expect(processed.sort()).toEqual([...estate.openGroups, estate.rogue].sort());
    for (const groupId of estate.groupIds) expect({ groupId, ports: await ingressPorts(groupId) }).toEqual({ groupId, ports: [443] });
    expect(await world.receivedAlerts()).toHaveLength(3);
  });

  it('does not act again on a rule the live event already revoked', async () => {
    const groupId = await createWebGroup(world.aws.ec2, world.network.vpcId, 'web');
    const ruleId = await openSshToWorld(world.aws.ec2, groupId);
    const live = await world.invoke(sampleForMoto('admin-port-ssh-open-to-world', { 'sg-0a1b2c3d4e5f60003': groupId, 'sgr-0a1b2c3d4e5f00001': ruleId }));
    expect(live.result).toMatchObject({ status: 'processed', decision: 'contain' });

    const sweep = await world.invokeSweeper({ env: SMALL_PAGES });

    expect(sweep.result).toMatchObject({ complete: true, violations: [] });
    expect(await ingressPorts(groupId)).toEqual([443]);
    const alerts = await world.receivedAlerts();
    expect(alerts.map((a) => a.document.event.id)).toEqual([live.result!.eventId]);
  });

  it('answers the late live event of a rule the sweep already revoked with "already handled": one action, one alert', async () => {
    const groupId = await createWebGroup(world.aws.ec2, world.network.vpcId, 'web');
    // CloudTrail stamps the call with the time it was made: before the sweep saw and revoked it.
    const openedAt = new Date(Date.now() - 1000);
    const ruleId = await openSshToWorld(world.aws.ec2, groupId);
    const sweep = await world.invokeSweeper({ env: SMALL_PAGES });
    expect(sweep.result?.violations).toEqual([expect.objectContaining({ resource: groupId, response: expect.objectContaining({ status: 'processed' }) })]);
    expect(await ingressPorts(groupId)).toEqual([443]);

    const live = await world.invoke(sampleForMoto('admin-port-ssh-open-to-world', { 'sg-0a1b2c3d4e5f60003': groupId, 'sgr-0a1b2c3d4e5f00001': ruleId }, { time: openedAt }));

    expect(live.error).toBeUndefined();
    expect(live.result?.status).toBe('duplicate');
    expect(String(live.result?.reason)).toContain(sweep.result!.violations[0]!.idempotencyKey);
    expect(live.result?.outcomes ?? []).toEqual([]);
    const alerts = await world.receivedAlerts();
    expect(alerts).toHaveLength(1);
    expect(alerts[0]!.document.event.id).toBe(sweep.result!.violations[0]!.idempotencyKey);
  });

  it('terminates a quarantined instance whose forensic hold has passed, lifting the protection driftwarden set, and audits it', async () => {
    const [tainted, replacement] = await launchInstances(world.aws.ec2, world.network, 2);
    // The hold as driftwarden left it: quarantined, protected from termination by driftwarden.
    await world.aws.ec2.send(new ModifyInstanceAttributeCommand({ InstanceId: tainted!, DisableApiTermination: { Value: true } }));
    await world.aws.ec2.send(
      new CreateTagsCommand({ Resources: [tainted!], Tags: [{ Key: QUARANTINE_TAG, Value: 'instance-manual-change:evt-1' }, { Key: 'driftwarden:protection-set', Value: 'true' }] }),
    );
    const ledger = new ReplacementLedger({ client: world.aws.dynamodb, tableName: TABLES.state });
    const token = 'driftwarden-0123456789abcdef01234567';
    await ledger.record({
      clientRequestToken: token,
      replacementToken: 'dw-0123456789abcdef01234567',
      findingId: 'instance-manual-change:evt-1',
      eventId: 'evt-1',
      instanceId: tainted!,
      stackName: 'workload',
      logicalId: 'WorkloadInstance',
      accountId: MOTO_ACCOUNT_ID,
      region: MOTO_REGION,
      holdSeconds: 3600,
      force: false,
      quarantinedAt: new Date(Date.now() - 3 * 3600_000).toISOString(),
    });
    // The replacement went into service two hours ago: the one-hour hold ended an hour ago.
    const due = await ledger.markTerminationDue(token, { newInstanceId: replacement!, terminateAfter: new Date(Date.now() - 3600_000) });
    expect(due.transitioned).toBe(true);

    const sweep = await world.invokeSweeper({ env: SMALL_PAGES });

    expect(sweep.error).toBeUndefined();
    expect(sweep.result?.terminations).toEqual([expect.objectContaining({ action: 'terminate', resource: tainted, status: 'done' })]);
    expect((await describeInstance(world.aws.ec2, tainted!)).State?.Name).toMatch(/^(shutting-down|terminated)$/);
    expect((await describeInstance(world.aws.ec2, replacement!)).State?.Name).toBe('running');
    expect(await ledger.find(token)).toMatchObject({ status: 'terminated', newInstanceId: replacement });
    expect(await ledger.dueTerminations(new Date())).toEqual([]);
    const audit = new AuditTrail({ client: world.aws.dynamodb, tableName: TABLES.state });
    expect(await audit.byResource(tainted!)).toEqual([
      expect.objectContaining({ followUpOf: `forensic-hold:${tainted}`, decision: 'terminated', outcomes: [expect.objectContaining({ action: 'terminate', status: 'done' })] }),
    ]);

    // The next sweep finds nothing due: one termination, however often it runs.
    const again = await world.invokeSweeper({ env: SMALL_PAGES });
    expect(again.result?.terminations).toEqual([]);
    const followUps = await world.aws.dynamodb.send(
      new QueryCommand({ TableName: TABLES.state, KeyConditionExpression: 'pk = :pk', ExpressionAttributeValues: { ':pk': { S: `resource#${tainted}` } } }),
    );
    expect(followUps.Items).toHaveLength(1);
  });

  it('leaves a quarantine whose hold has not passed', async () => {
    const [tainted, replacement] = await launchInstances(world.aws.ec2, world.network, 2);
    const ledger = new ReplacementLedger({ client: world.aws.dynamodb, tableName: TABLES.state });
    const token = 'driftwarden-fedcba9876543210fedcba98';
    await ledger.record({
      clientRequestToken: token,
      replacementToken: 'dw-fedcba9876543210fedcba98',
      findingId: 'instance-manual-change:evt-2',
      eventId: 'evt-2',
      instanceId: tainted!,
      stackName: 'workload',
      accountId: MOTO_ACCOUNT_ID,
      region: MOTO_REGION,
      holdSeconds: 86_400,
      force: false,
      quarantinedAt: new Date().toISOString(),
    });
    await ledger.markTerminationDue(token, { newInstanceId: replacement!, terminateAfter: new Date(Date.now() + 86_400_000) });

    const sweep = await world.invokeSweeper({ env: SMALL_PAGES });

    expect(sweep.result?.terminations).toEqual([]);
    expect((await describeInstance(world.aws.ec2, tainted!)).State?.Name).toBe('running');
    expect(await ledger.find(token)).toMatchObject({ status: 'termination-due' });
  });
});
