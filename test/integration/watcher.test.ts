/**
 * The built watcher against moto_server: a "CloudFormation Stack Status Change" event for a
 * stack update driftwarden started is followed to its end (replaced and terminated or due,
 * kept on a bad replacement or a rollback), and nothing else is acted on.
 *
 * What moto cannot do, and how these tests work around it (said here so nobody reads more into
 * them):
 * - moto's stack update does not launch a new instance (its AWS::EC2::Instance ignores the
 *   LaunchTemplate and has no update handler): after driftwarden's UpdateStack the stack's
 *   WorkloadInstance is still the instance it was. So the world is built the other way round:
 *   the stack's own instance plays the NEW instance, and the tainted OLD instance is launched
 *   beside it with the `aws:cloudformation:*` tags CloudFormation gave it (moto accepts the
 *   reserved prefix from the API). The responder then runs its real flow on the old instance
 *   (isolate, snapshot, tag, UpdateStack with a new replacement token, ledger record), and the
 *   stack's WorkloadInstance is, as after a real replacement, a different instance.
 * - moto ignores the launch template's TagSpecifications, so the new instance is tagged with
 *   `driftwarden:replacement-token` (the stack's new DriftwardenReplacementToken) by the test,
 *   as the template of the replacement contract would have tagged it at launch.
 * - EventBridge is not involved: the test delivers the stack status event itself.
 * The hold-0 cases record the ledger item directly (ReplacementLedger.record, the responder's
 * own call): with forensicHold 0 the responder's plan terminates the tainted instance itself
 * (plan.ts, terminate `when: 'now'`), which would leave the watcher nothing to terminate.
 */
import { CreateTagsCommand, DescribeInstanceAttributeCommand, ModifyInstanceAttributeCommand } from '@aws-sdk/client-ec2';
import { ScanCommand } from '@aws-sdk/client-dynamodb';
import { AuditTrail } from '../../functions/aws/state/audit';
import { ReplacementLedger, type ReplacementRecord } from '../../functions/aws/state/replacements';
import { sampleForMoto, stackStatusEvent } from './events';
import { useMotoHarness } from './harness';
import { describeWithMoto, MOTO_ACCOUNT_ID, MOTO_REGION } from './moto';
import { createStandaloneStack, createWebGroup, describeInstance, describeStack, launchInstances, otherImageId, STACK_NAME, TABLES, tagValue } from './world';

const REPLACEMENT_TOKEN_TAG = 'driftwarden:replacement-token';
const QUARANTINE_TAG = 'driftwarden:quarantined';

describeWithMoto('watcher (built bundle) against moto_server', () => {
  const world = useMotoHarness();
  const ledger = () => new ReplacementLedger({ client: world.aws.dynamodb, tableName: TABLES.state });
  const audit = () => new AuditTrail({ client: world.aws.dynamodb, tableName: TABLES.state });

  async function ledgerRecords(): Promise<ReplacementRecord[]> {
    const items = (await world.aws.dynamodb.send(new ScanCommand({ TableName: TABLES.state }))).Items ?? [];
    const tokens = items.map((i) => i.pk?.S ?? '').filter((pk) => pk.startsWith('replacement#')).map((pk) => pk.slice('replacement#'.length));
    const records = await Promise.all(tokens.map((token) => ledger().find(token)));
    return records.filter((r): r is ReplacementRecord => r !== undefined);
  }

  /**
   * The stack `workload` whose WorkloadInstance is the new instance (from `newImageId`, default
   * the approved image), and the tainted old instance it replaced, hand-edited and sent through
   * the built responder (see the module comment).
   */
  async function replacedThroughTheResponder(options: { newImageId?: string } = {}) {
    const policyPath = world.writePolicy({ approvedAmiIds: [world.network.imageId] });
    const groupId = await createWebGroup(world.aws.ec2, world.network.vpcId, 'web');
    const stack = await createStandaloneStack(world.aws, { ...world.network, imageId: options.newImageId ?? world.network.imageId }, groupId);
    const [oldInstance] = await launchInstances(world.aws.ec2, world.network, 1, {
      tags: { 'aws:cloudformation:stack-name': STACK_NAME, 'aws:cloudformation:stack-id': stack.stackId, 'aws:cloudformation:logical-id': 'WorkloadInstance' },
    });
    const responded = await world.invoke(sampleForMoto('instance-manual-change-instance-type-on-stack-instance', { 'i-0a1b2c3d4e5f60001': oldInstance! }), { policyPath });
    expect(responded.result).toMatchObject({ status: 'processed', decision: 'replace' });
    expect(responded.result?.outcomes?.find((o) => o.action === 'replace')).toMatchObject({ status: 'done' });
    const records = await ledgerRecords();
    expect(records).toHaveLength(1);
    const record = records[0]!;
    expect(record).toMatchObject({ status: 'replacing', instanceId: oldInstance, stackName: STACK_NAME, logicalId: 'WorkloadInstance' });
    const parameters = Object.fromEntries(((await describeStack(world.aws.cloudFormation)).Parameters ?? []).map((p) => [p.ParameterKey, p.ParameterValue]));
    expect(parameters.DriftwardenReplacementToken).toBe(record.replacementToken);
    await world.aws.ec2.send(new CreateTagsCommand({ Resources: [stack.instanceId], Tags: [{ Key: REPLACEMENT_TOKEN_TAG, Value: record.replacementToken }] }));
    await world.receivedAlerts(); // the responder's own alert; the tests count the watcher's
    return { policyPath, stackId: stack.stackId, oldInstance: oldInstance!, newInstance: stack.instanceId, record };
  }

  /** The same world with no forensic hold, the ledger item recorded directly (see the module comment). */
  async function replacedWithNoHold() {
    const policyPath = world.writePolicy({ approvedAmiIds: [world.network.imageId], forensicHoldHours: 0 });
    const groupId = await createWebGroup(world.aws.ec2, world.network.vpcId, 'web');
    const stack = await createStandaloneStack(world.aws, world.network, groupId);
    const [oldInstance] = await launchInstances(world.aws.ec2, world.network, 1);
    // Quarantined as driftwarden leaves it: tagged, protected from termination by driftwarden.
    await world.aws.ec2.send(new ModifyInstanceAttributeCommand({ InstanceId: oldInstance!, DisableApiTermination: { Value: true } }));
    await world.aws.ec2.send(
      new CreateTagsCommand({
        Resources: [oldInstance!],
        Tags: [
          { Key: QUARANTINE_TAG, Value: 'instance-manual-change:evt-0' },
          { Key: 'driftwarden:protection-set', Value: 'true' },
        ],
      }),
    );
    const record = {
      clientRequestToken: 'driftwarden-00000000000000000000aaaa',
      replacementToken: 'dw-00000000000000000000aaaa',
      findingId: 'instance-manual-change:evt-0',
      eventId: 'evt-0',
      instanceId: oldInstance!,
      stackName: STACK_NAME,
      stackId: stack.stackId,
      logicalId: 'WorkloadInstance',
      accountId: MOTO_ACCOUNT_ID,
      region: MOTO_REGION,
      holdSeconds: 0,
      force: false,
      quarantinedAt: new Date().toISOString(),
      rule: 'instance-manual-change',
      severity: 'HIGH' as const,
    };
    expect(await ledger().record(record)).toBe(true);
    await world.aws.ec2.send(new CreateTagsCommand({ Resources: [stack.instanceId], Tags: [{ Key: REPLACEMENT_TOKEN_TAG, Value: record.replacementToken }] }));
    return { policyPath, stackId: stack.stackId, oldInstance: oldInstance!, newInstance: stack.instanceId, record };
  }

  it('on UPDATE_COMPLETE with a healthy replacement, alerts "replaced" naming both instances and makes the termination due after the hold', async () => {
    const scene = await replacedThroughTheResponder();
    const event = stackStatusEvent({ stackId: scene.stackId, status: 'UPDATE_COMPLETE', clientRequestToken: scene.record.clientRequestToken });
    const before = Date.now();

    const watched = await world.invokeWatcher(event, { policyPath: scene.policyPath });

    expect(watched.error).toBeUndefined();
    expect(watched.result).toMatchObject({
      status: 'termination-due',
      oldInstanceId: scene.oldInstance,
      newInstanceId: scene.newInstance,
      termination: { action: 'terminate', resource: scene.oldInstance, status: 'deferred' },
      alert: { kind: 'replaced', published: true },
    });
    expect((await describeInstance(world.aws.ec2, scene.oldInstance)).State?.Name).toBe('running');
    const record = await ledger().find(scene.record.clientRequestToken);
    expect(record).toMatchObject({ status: 'termination-due', newInstanceId: scene.newInstance });
    const dueIn = Date.parse(record!.terminateAfter!) - before;
    expect(dueIn).toBeGreaterThan(24 * 3600_000 - 60_000);
    expect(dueIn).toBeLessThan(24 * 3600_000 + 60_000);
    // Not due yet: the sweep would not terminate it now.
    expect(await ledger().dueTerminations(new Date())).toEqual([]);

    const alerts = await world.receivedAlerts();
    expect(alerts).toHaveLength(1);
    const { subject, document } = alerts[0]!;
    expect(subject.length).toBeLessThan(100);
    expect(document).toMatchObject({ kind: 'replaced', rules: ['instance-manual-change'] });
    expect(document.resources.map((r) => r.id)).toEqual(expect.arrayContaining([scene.oldInstance, scene.newInstance]));
    expect((await audit().byResource(scene.newInstance)).map((r) => r.decision)).toEqual(['termination-due']);

    // A second delivery of the same event finds the transition made: nothing more.
    const again = await world.invokeWatcher(event, { policyPath: scene.policyPath });
    expect(again.result).toMatchObject({ status: 'duplicate', oldInstanceId: scene.oldInstance });
    expect(await world.receivedAlerts()).toEqual([]);
  });

  it('with no forensic hold, terminates the tainted instance at once (lifting the protection driftwarden set), and only once however often the event comes', async () => {
    const scene = await replacedWithNoHold();
    const event = stackStatusEvent({ stackId: scene.stackId, status: 'UPDATE_COMPLETE', clientRequestToken: scene.record.clientRequestToken });

    const watched = await world.invokeWatcher(event, { policyPath: scene.policyPath });

    expect(watched.error).toBeUndefined();
    expect(watched.result).toMatchObject({
      status: 'replaced',
      newInstanceId: scene.newInstance,
      termination: { action: 'terminate', resource: scene.oldInstance, status: 'done' },
      alert: { kind: 'replaced', published: true },
    });
    expect((await describeInstance(world.aws.ec2, scene.oldInstance)).State?.Name).toMatch(/^(shutting-down|terminated)$/);
    expect((await describeInstance(world.aws.ec2, scene.newInstance)).State?.Name).toBe('running');
    expect(await ledger().find(scene.record.clientRequestToken)).toMatchObject({ status: 'terminated' });

    const [second, third] = await Promise.all([1, 2].map(() => world.invokeWatcher(event, { policyPath: scene.policyPath })));
    expect([second!.result?.status, third!.result?.status]).toEqual(['duplicate', 'duplicate']);
    expect(second!.result?.termination).toBeUndefined();
    expect((await world.receivedAlerts()).map((a) => a.document.kind)).toEqual(['replaced']);
    expect((await audit().byResource(scene.oldInstance)).map((r) => r.decision)).toEqual(['replaced']);
  });

  it('keeps the quarantine and alerts CRITICAL when the replacement runs an unapproved image', async () => {
    const unapproved = await otherImageId(world.aws.ec2, world.network);
    const scene = await replacedThroughTheResponder({ newImageId: unapproved });

    const watched = await world.invokeWatcher(
      stackStatusEvent({ stackId: scene.stackId, status: 'UPDATE_COMPLETE', clientRequestToken: scene.record.clientRequestToken }),
      { policyPath: scene.policyPath },
    );

    expect(watched.result).toMatchObject({ status: 'kept', newInstanceId: scene.newInstance, alert: { kind: 'replacement-failed', severity: 'CRITICAL', published: true } });
    expect(watched.result?.reason).toContain(`runs unapproved image ${unapproved}`);
    const old = await describeInstance(world.aws.ec2, scene.oldInstance);
    expect(old.State?.Name).toBe('running');
    expect(tagValue(old.Tags, QUARANTINE_TAG)).toBeTruthy();
    const protection = await world.aws.ec2.send(new DescribeInstanceAttributeCommand({ InstanceId: scene.oldInstance, Attribute: 'disableApiTermination' }));
    expect(protection.DisableApiTermination?.Value).toBe(true);
    expect(await ledger().find(scene.record.clientRequestToken)).toMatchObject({ status: 'kept' });
    const alerts = await world.receivedAlerts();
    expect(alerts.map((a) => ({ kind: a.document.kind, severity: a.document.severity }))).toEqual([{ kind: 'replacement-failed', severity: 'CRITICAL' }]);
    expect(alerts[0]!.document.details.join('\n')).toContain(unapproved);
  });

  it('keeps the quarantine and alerts CRITICAL with the stack reason when the update rolled back', async () => {
    const scene = await replacedThroughTheResponder();
    const reason = 'The following resource(s) failed to create: [WorkloadInstance].';

    const watched = await world.invokeWatcher(
      stackStatusEvent({ stackId: scene.stackId, status: 'UPDATE_ROLLBACK_COMPLETE', reason, clientRequestToken: scene.record.clientRequestToken }),
      { policyPath: scene.policyPath },
    );

    expect(watched.result).toMatchObject({ status: 'kept', alert: { kind: 'replacement-failed', severity: 'CRITICAL', published: true } });
    expect(watched.result?.reason).toContain(reason);
    expect((await describeInstance(world.aws.ec2, scene.oldInstance)).State?.Name).toBe('running');
    expect(await ledger().find(scene.record.clientRequestToken)).toMatchObject({ status: 'kept', keptReason: expect.stringContaining('UPDATE_ROLLBACK_COMPLETE') });
    const alerts = await world.receivedAlerts();
    expect(alerts).toHaveLength(1);
    expect(alerts[0]!.document).toMatchObject({ kind: 'replacement-failed', severity: 'CRITICAL' });
    expect(alerts[0]!.document.details.join('\n')).toContain(reason);
  });

  it('ignores a stack update it did not start: no ledger change, no termination, no alert', async () => {
    const scene = await replacedWithNoHold();

    const unknown = await world.invokeWatcher(
      stackStatusEvent({ stackId: scene.stackId, status: 'UPDATE_COMPLETE', clientRequestToken: 'driftwarden-ffffffffffffffffffffffff' }),
      { policyPath: scene.policyPath },
    );
    const someoneElses = await world.invokeWatcher(
      stackStatusEvent({ stackId: scene.stackId, status: 'UPDATE_COMPLETE', clientRequestToken: scene.record.clientRequestToken.replace('driftwarden-', 'pipeline-') }),
      { policyPath: scene.policyPath },
    );

    expect(unknown.result).toMatchObject({ status: 'ignored', clientRequestToken: 'driftwarden-ffffffffffffffffffffffff' });
    expect(someoneElses.result?.status).toBe('ignored');
    expect(unknown.result?.termination).toBeUndefined();
    expect((await describeInstance(world.aws.ec2, scene.oldInstance)).State?.Name).toBe('running');
    expect(await ledger().find(scene.record.clientRequestToken)).toMatchObject({ status: 'replacing' });
    expect(await world.receivedAlerts()).toEqual([]);
    expect(await audit().byResource(scene.oldInstance)).toEqual([]);
  });
});
