/**
 * A violation made again is a new violation. The claims that stop two deliveries of one change
 * from both acting must not stop driftwarden from acting when someone re-opens the same rule
 * after it was revoked. Real state classes on dynalite.
 */
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { RevokeSecurityGroupIngressCommand } from '@aws-sdk/client-ec2';
import { AlertLimiter, AuditTrail, BlastRadiusLimiter, EffectivelyOnce, ViolationClaims } from '../../functions/aws/state';
import type { ResponderState } from '../../functions/responder/respond';
import { useDynalite, type TestTables } from '../helpers/dynalite';
import { NOW, harness, restoreMocks, SAMPLES, sample, type Harness } from './harness';

const db = useDynalite();
let tables: TestTables;
let client: DynamoDBClient;
let h: Harness | undefined;
const now = () => new Date(NOW);

function state(): ResponderState {
  return {
    once: new EffectivelyOnce({ client, tableName: tables.idempotency }),
    claims: new ViolationClaims({ client, tableName: tables.state, now }),
    blastRadius: (p) => new BlastRadiusLimiter({ client, tableName: tables.state, maxActions: p.limits.maxDestructiveActions, windowMinutes: 60, now }),
    alerts: (p) => new AlertLimiter({ client, tableName: tables.state, maxAlerts: p.limits.maxAlertsPerWindow, windowMinutes: p.limits.alertWindowMinutes, now }),
    audit: new AuditTrail({ client, tableName: tables.state, now }),
  };
}

/** The same CloudTrail call made again later: a new event id, a later time. */
function madeAgain(input: Record<string, unknown>, id: string, time: string): Record<string, unknown> {
  const copy = JSON.parse(JSON.stringify(input)) as { id: string; time: string; detail: Record<string, unknown> };
  copy.id = `${id}-envelope`;
  copy.time = time;
  copy.detail.eventID = id;
  copy.detail.eventTime = time;
  return copy;
}

beforeEach(async () => {
  tables = await db.createTables();
  client = db.client();
});
afterEach(() => restoreMocks(h));

test('a rule re-opened after driftwarden revoked it is revoked again', async () => {
  h = harness({ state: state() });
  const first = await h.respond(sample(SAMPLES.ssh));
  expect(first.decision).toBe('contain');
  // Contained at the harness clock (09:20); re-opened at 09:25.
  const again = await h.respond(madeAgain(sample(SAMPLES.ssh), '0000aaaa-1111-4222-8333-444455556666', '2026-11-20T09:25:00Z'));
  expect(again).toMatchObject({ status: 'processed', decision: 'contain' });
  expect(h.m.ec2).toHaveReceivedCommandTimes(RevokeSecurityGroupIngressCommand, 2);
});

test('a late copy of the original change (its Config item, captured before containment) stays a duplicate', async () => {
  h = harness({ state: state() });
  await h.respond(sample(SAMPLES.ssh));
  const late = await h.respond(sample(SAMPLES.sshConfig));
  expect(late.status).toBe('duplicate');
  expect(h.m.ec2).toHaveReceivedCommandTimes(RevokeSecurityGroupIngressCommand, 1);
});
