/**
 * Effectively once, on a real DynamoDB-compatible server (dynalite) with the REAL state
 * classes: EffectivelyOnce (Powertools idempotency), ViolationClaims, BlastRadiusLimiter,
 * AlertLimiter and AuditTrail.
 */
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { ModifyNetworkInterfaceAttributeCommand, RevokeSecurityGroupIngressCommand } from '@aws-sdk/client-ec2';
import { PublishCommand } from '@aws-sdk/client-sns';
import { AlertLimiter, AuditTrail, BlastRadiusLimiter, EffectivelyOnce, ViolationClaims } from '../../functions/aws/state';
import { evaluateInput, isRejected } from '../../functions/core/pipeline';
import { SnapshotContextReader } from '../../functions/core/snapshot';
import { violationKeys } from '../../functions/core/violation-keys';
import type { ResponderState } from '../../functions/responder/respond';
import { useDynalite, type TestTables } from '../helpers/dynalite';
import { ACCOUNT, EVENTS, fakeState, harness, INSTANCES, ISOLATION_SG, NOW, restoreMocks, SAMPLES, sample, samplePolicy, type Harness, type HarnessOptions } from './harness';
import { join } from 'node:path';

const db = useDynalite();
let tables: TestTables;
let client: DynamoDBClient;
let h: Harness | undefined;
const now = () => new Date(NOW);

function realState(): ResponderState & { audit: AuditTrail } {
  return {
    once: new EffectivelyOnce({ client, tableName: tables.idempotency }),
    claims: new ViolationClaims({ client, tableName: tables.state, now }),
    blastRadius: (p) => new BlastRadiusLimiter({ client, tableName: tables.state, maxActions: p.limits.maxDestructiveActions, windowMinutes: p.limits.windowMinutes, now }),
    alerts: (p) => new AlertLimiter({ client, tableName: tables.state, maxAlerts: p.limits.maxAlertsPerWindow, windowMinutes: p.limits.alertWindowMinutes, now }),
    audit: new AuditTrail({ client, tableName: tables.state, now }),
  };
}

function withRealState(options: HarnessOptions = {}): Harness & { audit: AuditTrail } {
  const state = realState();
  h = harness({ ...options, state });
  return Object.assign(h, { audit: state.audit });
}

beforeEach(async () => {
  tables = await db.createTables();
  client = db.client();
});
afterEach(() => restoreMocks(h));

describe('the same delivery again', () => {
  test('five sequential deliveries of one event revoke once and alert once', async () => {
    const r = withRealState();
    const statuses: string[] = [];
    for (let i = 0; i < 5; i++) statuses.push((await r.respond(sample(SAMPLES.ssh))).status);
    expect(statuses).toEqual(['processed', 'duplicate', 'duplicate', 'duplicate', 'duplicate']);
    expect(r.m.ec2).toHaveReceivedCommandTimes(RevokeSecurityGroupIngressCommand, 1);
    expect(r.m.sns).toHaveReceivedCommandTimes(PublishCommand, 1);
  });

  test('five concurrent deliveries of one event revoke once and alert once', async () => {
    const r = withRealState();
    const summaries = await Promise.all(Array.from({ length: 5 }, () => r.respond(sample(SAMPLES.ssh))));
    expect(summaries.filter((s) => s.status === 'processed')).toHaveLength(1);
    for (const s of summaries.filter((x) => x.status !== 'processed')) expect(['duplicate', 'duplicate-in-progress']).toContain(s.status);
    expect(r.m.ec2).toHaveReceivedCommandTimes(RevokeSecurityGroupIngressCommand, 1);
    expect(r.m.sns).toHaveReceivedCommandTimes(PublishCommand, 1);
  });
});

describe('the same violation by two roads', () => {
  test('the CloudTrail call and the Config item of the same SSH rule share one violation key', async () => {
    const reader = SnapshotContextReader.fromFile(join(EVENTS, 'account-snapshot.json'));
    const keysOf = async (name: string) => {
      const ev = await evaluateInput(sample(name), { policy: samplePolicy(), reader, now: NOW.toISOString(), dryRun: true });
      if (isRejected(ev)) throw new Error(`${name} rejected`);
      return violationKeys(ev.plan);
    };
    const viaCloudTrail = await keysOf(SAMPLES.ssh);
    const viaConfig = await keysOf(SAMPLES.sshConfig);
    expect(viaConfig).toEqual(['sg-rule:sg-0a1b2c3d4e5f60003:ingress:tcp:22-22:0.0.0.0/0']);
    expect(viaCloudTrail).toEqual(expect.arrayContaining(viaConfig));
  });

  test.each([
    ['CloudTrail first', [SAMPLES.ssh, SAMPLES.sshConfig]],
    ['Config first', [SAMPLES.sshConfig, SAMPLES.ssh]],
    ['CLI shorthand and CloudTrail', [SAMPLES.sshShorthand, SAMPLES.ssh]],
  ])('%s: the rule is revoked once; the second delivery says who handled it', async (_label, [first, second]) => {
    const r = withRealState();
    const a = await r.respond(sample(first!));
    const b = await r.respond(sample(second!));
    expect(a).toMatchObject({ status: 'processed', decision: 'contain' });
    expect(b).toMatchObject({ status: 'duplicate', reason: expect.stringContaining(`already handled by ${a.eventId}`) });
    expect(r.m.ec2).toHaveReceivedCommandTimes(RevokeSecurityGroupIngressCommand, 1);
    expect(r.m.sns).toHaveReceivedCommandTimes(PublishCommand, 1);
  });

  test('delivered concurrently by both roads, the rule is still revoked once', async () => {
    const r = withRealState();
    const both = await Promise.all([r.respond(sample(SAMPLES.ssh)), r.respond(sample(SAMPLES.sshConfig))]);
    expect(both.map((s) => s.status).sort()).toEqual(['duplicate', 'processed']);
    expect(r.m.ec2).toHaveReceivedCommandTimes(RevokeSecurityGroupIngressCommand, 1);
  });
});

describe('blast radius', () => {
  const contain = (p: ReturnType<typeof samplePolicy>) => ({
    ...p,
    rules: { ...p.rules, 'instance-manual-change': { ...p.rules['instance-manual-change'], mode: 'contain' as const } },
    limits: { ...p.limits, maxDestructiveActions: 2 },
  });
  const events = [SAMPLES.stackInstance, SAMPLES.asgMember, SAMPLES.unapprovedAmi, 'positive/ssh-key-material-run-instances-with-key.json'];

  test('with a limit of 2, two instances are isolated, the rest observed, and ONE critical limit-reached alert goes out', async () => {
    const r = withRealState({ policy: contain });
    const decisions: string[] = [];
    for (const name of events) decisions.push((await r.respond(sample(name))).decision ?? '');

    expect(decisions).toEqual(['contain', 'contain', 'observe', 'observe']);
    const isolated = r.m.ec2.commandCalls(ModifyNetworkInterfaceAttributeCommand).filter((c) => c.args[0].input.Groups?.[0] === ISOLATION_SG).map((c) => c.args[0].input.NetworkInterfaceId);
    expect(new Set(isolated)).toEqual(new Set(['eni-0a1b2c3d4e5f60001', 'eni-0a1b2c3d4e5f60002', 'eni-0a1b2c3d4e5f60003']));
    expect(r.world.instance(INSTANCES.unapproved)!.networkInterfaces![0]!.groups).toEqual(['sg-0a1b2c3d4e5f60003']);

    const limitAlerts = r.published().filter((p) => p.MessageAttributes?.kind?.StringValue === 'limit-reached');
    expect(limitAlerts).toHaveLength(1);
    expect(limitAlerts[0]!.MessageAttributes?.severity?.StringValue).toBe('CRITICAL');
    expect(limitAlerts[0]!.Subject).toContain('CRITICAL');
  });

  test('three concurrent instance events under a limit of 2 never isolate more than two', async () => {
    const r = withRealState({ policy: contain });
    const summaries = await Promise.all(events.slice(0, 3).map((name) => r.respond(sample(name))));
    expect(summaries.filter((s) => s.decision === 'contain')).toHaveLength(2);
    expect(summaries.filter((s) => s.decision === 'observe')).toHaveLength(1);
    expect(r.published().filter((p) => p.MessageAttributes?.kind?.StringValue === 'limit-reached')).toHaveLength(1);
  });
});

describe('alert storm', () => {
  /** A hand-made HTTPS rule from a distinct private range: a security-group-manual-change finding each. */
  function sgChange(i: number): Record<string, unknown> {
    const base = sample('positive/security-group-manual-change-https-from-private-range.json') as { id: string; detail: Record<string, unknown> };
    const detail = structuredClone(base.detail) as Record<string, unknown> & { requestParameters: { ipPermissions: { items: { ipRanges: { items: { cidrIp: string }[] } }[] } } };
    detail.eventID = `storm-${String(i).padStart(4, '0')}-4c3d-8e4f-a0b1c2d3e4f5`;
    detail.requestParameters.ipPermissions.items[0]!.ipRanges.items[0]!.cidrIp = `10.${Math.floor(i / 256)}.${i % 256}.0/24`;
    delete detail.responseElements;
    return { ...base, id: `storm-${i}`, detail };
  }

  test('500 findings in one minute publish at most maxAlertsPerWindow alerts', async () => {
    // The real AlertLimiter decides; the other state is the in-memory fake, to keep 500 events quick.
    const state = fakeState(now);
    state.alerts = (p) => new AlertLimiter({ client, tableName: tables.state, maxAlerts: p.limits.maxAlertsPerWindow, windowMinutes: p.limits.alertWindowMinutes, now });
    const r = (h = harness({ config: { globalMode: 'observe' }, state }));
    const max = samplePolicy().limits.maxAlertsPerWindow;
    const inputs = Array.from({ length: 500 }, (_, i) => sgChange(i));
    for (let i = 0; i < inputs.length; i += 50) await Promise.all(inputs.slice(i, i + 50).map((e) => r.respond(e)));
    const published = r.published();
    expect(published.length).toBeGreaterThan(0);
    expect(published.length).toBeLessThanOrEqual(max);
    expect(r.mutatingCalls({ exceptPublish: true })).toEqual([]);
    // Every finding was decided and recorded; only the alerts were folded.
    expect(state.audited).toHaveLength(500);
  }, 60_000);
});

describe('audit trail', () => {
  test('every decision is recorded, queryable by resource and by time, "no action" decisions too', async () => {
    const r = withRealState();
    const names = [SAMPLES.ssh, 'negative/security-group-change-by-pipeline-role.json', 'negative/read-only-describe-instances.json'];
    const summaries = [];
    for (const name of names) summaries.push(await r.respond(sample(name)));
    expect(summaries.map((s) => s.decision)).toEqual(['contain', 'trusted', 'no-finding']);

    const byTime = await r.audit.byTime('2026-11-20T00:00:00Z', '2026-11-20T23:59:59Z');
    const decisions = new Map(byTime.map((rec) => [rec.eventId, rec.decision]));
    for (const s of summaries) expect(decisions.get(s.eventId!)).toBe(s.decision);

    const sg = await r.audit.byResource('sg-0a1b2c3d4e5f60003');
    expect(sg).toEqual([expect.objectContaining({ eventId: summaries[0]!.eventId, decision: 'contain', accountId: ACCOUNT })]);
    expect(sg[0]!.outcomes.map((o) => [o.action, o.status])).toEqual([
      ['revoke-rule', 'done'],
      ['notify', 'done'],
    ]);
    const trusted = await r.audit.byResource('sg-0a1b2c3d4e5f60001');
    expect(trusted.map((rec) => rec.decision)).toEqual(['trusted']);
    expect(trusted[0]!.outcomes).toEqual([]);
  });
});
