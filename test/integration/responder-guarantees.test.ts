/**
 * The built responder's guarantees against moto_server: a delivery repeated (EventBridge
 * delivers at least once) is acted on once, and every decision leaves an audit record that can
 * be found by resource and by time.
 */
import { QueryCommand, ScanCommand } from '@aws-sdk/client-dynamodb';
import { AuthorizeSecurityGroupIngressCommand, DescribeSecurityGroupRulesCommand } from '@aws-sdk/client-ec2';
import { AuditTrail } from '../../functions/aws/state/audit';
import { sampleForMoto, type EventBridgeEvent } from './events';
import { useMotoHarness } from './harness';
import { describeWithMoto } from './moto';
import { createWebGroup, setKillSwitch, TABLES } from './world';

/** A lower bound for AuditTrail.byResource (see the audit test). */
const SINCE_EPOCH = { from: '1970-01-01T00:00:00.000Z' };

describeWithMoto('responder (built bundle) against moto_server: guarantees', () => {
  const world = useMotoHarness();

  /** A web group with SSH opened to the world by hand, and the CloudTrail event that says so. */
  async function sshOpenedByHand(): Promise<{ groupId: string; ruleId: string; event: EventBridgeEvent }> {
    const groupId = await createWebGroup(world.aws.ec2, world.network.vpcId, 'web');
    const opened = await world.aws.ec2.send(
      new AuthorizeSecurityGroupIngressCommand({
        GroupId: groupId,
        IpPermissions: [{ IpProtocol: 'tcp', FromPort: 22, ToPort: 22, IpRanges: [{ CidrIp: '0.0.0.0/0', Description: 'temp ssh' }] }],
      }),
    );
    const ruleId = opened.SecurityGroupRules![0]!.SecurityGroupRuleId!;
    const event = sampleForMoto('admin-port-ssh-open-to-world', { 'sg-0a1b2c3d4e5f60003': groupId, 'sgr-0a1b2c3d4e5f00001': ruleId });
    return { groupId, ruleId, event };
  }

  const idempotencyRecords = async () => (await world.aws.dynamodb.send(new ScanCommand({ TableName: TABLES.idempotency }))).Items ?? [];
  const ingressPorts = async (groupId: string) =>
    ((await world.aws.ec2.send(new DescribeSecurityGroupRulesCommand({ Filters: [{ Name: 'group-id', Values: [groupId] }] }))).SecurityGroupRules ?? [])
      .filter((r) => !r.IsEgress)
      .map((r) => r.FromPort)
      .sort();

  it('acts once on the same event delivered twice: one idempotency record, one alert, the second delivery a duplicate', async () => {
    const { groupId, event } = await sshOpenedByHand();

    const first = await world.invoke(event);
    // Someone opens the same rule again between the deliveries: had the redelivery acted, it would be gone.
    await world.aws.ec2.send(
      new AuthorizeSecurityGroupIngressCommand({ GroupId: groupId, IpPermissions: [{ IpProtocol: 'tcp', FromPort: 22, ToPort: 22, IpRanges: [{ CidrIp: '0.0.0.0/0' }] }] }),
    );
    const second = await world.invoke(event);

    expect(first.result).toMatchObject({ status: 'processed', decision: 'contain', eventId: event.detail.eventID });
    expect(second.result).toMatchObject({ status: 'duplicate', eventId: event.detail.eventID });
    expect(await ingressPorts(groupId)).toEqual([22, 443]);
    const records = await idempotencyRecords();
    expect(records).toHaveLength(1);
    expect(records[0]!.status?.S).toBe('COMPLETED');
    expect(Number(records[0]!.expiration?.N)).toBeGreaterThan(Date.now() / 1000);
    const alerts = await world.receivedAlerts();
    expect(alerts.map((a) => a.document.event.id)).toEqual([event.detail.eventID]);
  });

  it('acts once when the same event arrives twice at the same moment (two containers)', async () => {
    const { groupId, event } = await sshOpenedByHand();

    const results = await Promise.all([world.invoke(event), world.invoke(event)]);

    const statuses = results.map((r) => r.result?.status).sort();
    expect(statuses[0]).toMatch(/^duplicate/);
    expect(statuses[1]).toBe('processed');
    expect(await ingressPorts(groupId)).toEqual([443]);
    expect(await idempotencyRecords()).toHaveLength(1);
    expect((await world.receivedAlerts()).map((a) => a.document.event.id)).toEqual([event.detail.eventID]);
  });

  it('records the decision in the audit trail, queryable by resource and by day', async () => {
    const { groupId, ruleId, event } = await sshOpenedByHand();

    const invocation = await world.invoke(event);
    expect(invocation.result?.status).toBe('processed');

    // At the table level: one Query on the resource's partition.
    const partition = await world.aws.dynamodb.send(
      new QueryCommand({ TableName: TABLES.state, KeyConditionExpression: 'pk = :pk', ExpressionAttributeValues: { ':pk': { S: `resource#${groupId}` } } }),
    );
    expect((partition.Items ?? []).map((i) => i.eventId?.S)).toEqual([event.detail.eventID]);
    // Through the utility, with no range: DynamoDB (and moto, unlike dynalite) refuses an empty
    // string as a sort-key bound, so this is the check that the default bounds are valid ones.
    const audit = new AuditTrail({ client: world.aws.dynamodb, tableName: TABLES.state });
    const history = await audit.byResource(groupId);
    expect(await audit.byResource(groupId, SINCE_EPOCH)).toHaveLength(1);
    expect(history).toHaveLength(1);
    const record = history[0]!;
    expect(record).toMatchObject({
      pk: `resource#${groupId}`,
      resourceId: groupId,
      eventId: event.detail.eventID,
      eventName: 'AuthorizeSecurityGroupIngress',
      accountId: '123456789012',
      region: 'us-east-1',
      decision: 'contain',
      dryRun: false,
      rules: ['admin-port-open-to-world', 'security-group-manual-change'],
      actor: expect.objectContaining({ arn: 'arn:aws:iam::123456789012:user/alice' }),
    });
    expect(record.outcomes).toEqual(expect.arrayContaining([expect.objectContaining({ action: 'revoke-rule', resource: groupId, status: 'done' })]));
    expect(record.raw).toContain(ruleId);
    expect(record.raw).not.toContain('AKIAEXAMPLEALICE0001');
    expect(record.expiresAt).toBeGreaterThan(Date.now() / 1000 + 300 * 86_400);

    const day = record.decidedAt.slice(0, 10);
    const byDay = await world.aws.dynamodb.send(
      new QueryCommand({
        TableName: TABLES.state,
        IndexName: 'byTime',
        KeyConditionExpression: 'gsi1pk = :day',
        ExpressionAttributeValues: { ':day': { S: `day#${day}` } },
      }),
    );
    expect((byDay.Items ?? []).map((i) => i.eventId?.S)).toEqual([event.detail.eventID]);
    expect((await audit.byTime(`${day}T00:00:00.000Z`)).map((r) => r.eventId)).toEqual([event.detail.eventID]);
  });

  it('does not act while the kill switch is on, and still alerts and audits', async () => {
    const { groupId, event } = await sshOpenedByHand();
    await setKillSwitch(world.aws.ssm, 'on');

    const invocation = await world.invoke(event);

    expect(invocation.result).toMatchObject({ status: 'processed' });
    expect(invocation.result?.outcomes?.map((o) => o.action)).not.toContain('revoke-rule');
    expect(await ingressPorts(groupId)).toEqual([22, 443]);
    const alerts = await world.receivedAlerts();
    expect(alerts).toHaveLength(1);
    const audit = new AuditTrail({ client: world.aws.dynamodb, tableName: TABLES.state });
    expect((await audit.byResource(groupId, SINCE_EPOCH)).map((r) => r.decision)).toEqual([invocation.result?.decision]);
  });
});
