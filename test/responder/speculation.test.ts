/**
 * The responder claims the violation and takes its blast-radius allowance together with its
 * reads, before the plan is known, so containment waits for no extra round trip. These tests
 * hold it to the other half of that bargain: what it took and did not use, it gives back.
 * Real state classes on dynalite.
 */
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { ModifyNetworkInterfaceAttributeCommand } from '@aws-sdk/client-ec2';
import { AlertLimiter, AuditTrail, BlastRadiusLimiter, EffectivelyOnce, ViolationClaims } from '../../functions/aws/state';
import type { ResponderState } from '../../functions/responder/respond';
import { useDynalite, type TestTables } from '../helpers/dynalite';
import { ACCOUNT, NOW, harness, restoreMocks, SAMPLES, sample, type Harness } from './harness';

const db = useDynalite();
let tables: TestTables;
let client: DynamoDBClient;
let h: Harness | undefined;
const now = () => new Date(NOW);
const IMAGE_OWNER = '999988887777'; // owner of ami-0fedcba9876543210 in events/account-snapshot.json
const LAUNCHED = 'i-0a1b2c3d4e5f60003';

function state(maxActions: number): ResponderState {
  return {
    once: new EffectivelyOnce({ client, tableName: tables.idempotency }),
    claims: new ViolationClaims({ client, tableName: tables.state, now }),
    blastRadius: () => new BlastRadiusLimiter({ client, tableName: tables.state, maxActions, windowMinutes: 60, now }),
    alerts: (p) => new AlertLimiter({ client, tableName: tables.state, maxAlerts: p.limits.maxAlertsPerWindow, windowMinutes: p.limits.alertWindowMinutes, now }),
    audit: new AuditTrail({ client, tableName: tables.state, now }),
  };
}

beforeEach(async () => {
  tables = await db.createTables();
  client = db.client();
});
afterEach(() => restoreMocks(h));

describe('speculative claims and allowance', () => {
  test('a launch whose AMI turns out approved gives back the claim and the allowance it took before the reads', async () => {
    // The event alone cannot tell whether the AMI is approved, so the responder claims the
    // launch and reserves an isolation before reading. Here the policy approves the AMI.
    h = harness({
      state: state(1),
      // Approved through its owner (which only the image's description tells), with no age limit
      // (the sample image is older than the sample policy allows).
      policy: (p) => ({ ...p, approvedAmis: { ids: p.approvedAmis.ids, owners: [...p.approvedAmis.owners, IMAGE_OWNER] } }),
    });
    const summary = await h.respond(sample(SAMPLES.unapprovedAmi));
    expect(summary).toMatchObject({ decision: 'no-finding' });
    expect(h.mutatingCalls({ exceptPublish: true })).toEqual([]);

    // The claim is free again: another delivery can take it.
    const other = await new ViolationClaims({ client, tableName: tables.state, now }).claim([`launch:${LAUNCHED}:unapproved-ami`], 'someone-else', 3600);
    expect(other.claimed).toEqual([`launch:${LAUNCHED}:unapproved-ami`]);
    // And the one action the limit allows is still there.
    const limiter = new BlastRadiusLimiter({ client, tableName: tables.state, maxActions: 1, windowMinutes: 60, now });
    expect((await limiter.tryAcquire(ACCOUNT, 1)).allowed).toBe(true);
  });

  test('a replace plan reserves isolate, replace and terminate up front and still isolates within a tight limit', async () => {
    h = harness({ state: state(3) });
    const summary = await h.respond(sample(SAMPLES.stackInstance));
    expect(summary.decision).toBe('replace');
    expect(h.m.ec2).toHaveReceivedCommandWith(ModifyNetworkInterfaceAttributeCommand, { Groups: expect.any(Array) });
    // All three were used: nothing is left in the window.
    const limiter = new BlastRadiusLimiter({ client, tableName: tables.state, maxActions: 3, windowMinutes: 60, now });
    expect((await limiter.tryAcquire(ACCOUNT, 1)).allowed).toBe(false);
  });

  test('a speculative request larger than the limit does not use up the window’s one limit alert', async () => {
    // Limit 1: the replace plan needs 3, so it observes and owes exactly one CRITICAL alert.
    h = harness({ state: state(1) });
    const summary = await h.respond(sample(SAMPLES.stackInstance));
    expect(summary.decision).toBe('observe');
    const critical = h.published().filter((p) => p.MessageAttributes?.severity?.StringValue === 'CRITICAL');
    expect(critical).toHaveLength(1);
    expect(h.mutatingCalls({ exceptPublish: true })).toEqual([]);
  });
});
