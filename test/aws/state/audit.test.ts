import type { Plan, StepOutcome } from '../../../functions/core/decision';
import type { ChangeEvent } from '../../../functions/core/model';
import { AuditTrail, IAM_ACTIONS, MAX_RAW_CHARS, REDACTED, redactSecrets } from '../../../functions/aws/state/audit';
import { StateConfigError } from '../../../functions/aws/state/shared';
import { useDynalite, type TestTables } from '../../helpers/dynalite';

const db = useDynalite();
let tables: TestTables;

beforeEach(async () => {
  tables = await db.createTables();
});

function trail(retentionDays?: number): AuditTrail {
  return new AuditTrail({ tableName: tables.state, client: db.client(), ...(retentionDays ? { retentionDays } : {}) });
}

function event(id: string, overrides: Partial<ChangeEvent> = {}): ChangeEvent {
  return {
    id,
    origin: 'cloudtrail',
    eventSource: 'ec2.amazonaws.com',
    eventName: 'AuthorizeSecurityGroupIngress',
    time: '2026-05-04T10:00:00Z',
    accountId: '111122223333',
    region: 'eu-west-1',
    actor: { type: 'IAMUser', name: 'alice', arn: 'arn:aws:iam::111122223333:user/alice', accountId: '111122223333' },
    readOnly: false,
    resources: [{ type: 'security-group', id: 'sg-0abc' }],
    change: { kind: 'other' },
    raw: {
      eventID: id,
      userIdentity: { type: 'IAMUser', accessKeyId: 'AKIAIOSFODNN7EXAMPLE' },
      requestParameters: { groupId: 'sg-0abc' },
    },
    ...overrides,
  };
}

function plan(eventId: string, overrides: Partial<Plan> = {}): Plan {
  return {
    key: eventId,
    eventId,
    decision: 'contain',
    mode: 'contain',
    severity: 'CRITICAL',
    findings: [
      {
        id: `admin-port-open-to-world:${eventId}`,
        rule: 'admin-port-open-to-world',
        severity: 'CRITICAL',
        summary: 'SSH (22/tcp) opened to 0.0.0.0/0 on sg-0abc',
        resources: [{ type: 'security-group', id: 'sg-0abc' }],
      },
    ],
    notConfigured: [],
    steps: [
      {
        action: 'revoke-rule',
        resource: 'sg-0abc',
        reason: 'SSH open to the world',
        findingId: `admin-port-open-to-world:${eventId}`,
        rules: [{ direction: 'ingress', protocol: 'tcp', fromPort: 22, toPort: 22, cidrIpv4: '0.0.0.0/0' }],
      },
    ],
    dryRun: false,
    humanActions: [],
    warnings: [],
    resources: [{ type: 'security-group', id: 'sg-0abc' }],
    ...overrides,
  };
}

const revoked: StepOutcome[] = [{ action: 'revoke-rule', resource: 'sg-0abc', status: 'done', detail: 'revoked sgr-0123' }];

describe('AuditTrail', () => {
  it("records a decision and reads it back by resource: what, who, why and what happened", async () => {
    await trail().record({ event: event('evt-1'), plan: plan('evt-1'), outcomes: revoked, decidedAt: '2026-05-04T10:00:05.000Z' });

    const [record, ...others] = await trail().byResource('sg-0abc');

    expect(others).toEqual([]);
    expect(record).toMatchObject({
      pk: 'resource#sg-0abc',
      sk: '2026-05-04T10:00:05.000Z#evt-1',
      eventId: 'evt-1',
      decision: 'contain',
      rules: ['admin-port-open-to-world'],
      actor: { name: 'alice', arn: 'arn:aws:iam::111122223333:user/alice' },
      outcomes: revoked,
      rawTruncated: false,
    });
    expect(record.steps).toEqual(plan('evt-1').steps);
  });

  it('records "no action" decisions too (trusted actor), so the trail can say why nothing was done', async () => {
    await trail().record({
      event: event('evt-trusted'),
      plan: plan('evt-trusted', { decision: 'trusted', steps: [] }),
      outcomes: [],
      decidedAt: '2026-05-04T10:00:00.000Z',
    });

    expect((await trail().byResource('sg-0abc')).map((record) => [record.decision, record.steps])).toEqual([['trusted', []]]);
  });

  it('redacts access key ids, secret keys, session tokens and passwords in the stored raw record', async () => {
    const raw = {
      userIdentity: { accessKeyId: 'ASIAY34FZKBOKMUTVV7A', sessionContext: { sessionToken: 'FwoGZXIvYXdzEXAMPLETOKEN' } },
      responseElements: { credentials: { accessKeyId: 'AKIAIOSFODNN7EXAMPLE', secretAccessKey: 'wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY' } },
      requestParameters: { masterUserPassword: 'hunter2', url: 'https://s3/obj?X-Amz-Security-Token=IQoJb3JpZ2luX2VjEXAMPLE&X-Amz-Expires=60' },
    };
    await trail().record({ event: event('evt-secret', { raw }), plan: plan('evt-secret'), outcomes: [], decidedAt: '2026-05-04T10:00:00.000Z' });

    const [record] = await trail().byResource('sg-0abc');

    for (const secret of ['ASIAY34FZKBOKMUTVV7A', 'FwoGZXIvYXdzEXAMPLETOKEN', 'AKIAIOSFODNN7EXAMPLE', 'wJalrXUtnFEMI', 'hunter2', 'IQoJb3JpZ2luX2VjEXAMPLE']) {
      expect(record.raw).not.toContain(secret);
    }
    expect(JSON.parse(record.raw)).toEqual({
      userIdentity: { accessKeyId: REDACTED, sessionContext: { sessionToken: REDACTED } },
      responseElements: { credentials: { accessKeyId: REDACTED, secretAccessKey: REDACTED } },
      requestParameters: { masterUserPassword: REDACTED, url: `https://s3/obj?X-Amz-Security-Token=${REDACTED}&X-Amz-Expires=60` },
    });
  });

  it('keeps records for the retention period: expiresAt is decidedAt plus retentionDays', async () => {
    await trail(30).record({ event: event('evt-ttl'), plan: plan('evt-ttl'), outcomes: [], decidedAt: '2026-05-04T10:00:00.000Z' });

    const item = await db.get(tables.state, { pk: 'resource#sg-0abc', sk: '2026-05-04T10:00:00.000Z#evt-ttl' });

    expect(item?.expiresAt).toBe(Date.parse('2026-05-04T10:00:00Z') / 1000 + 30 * 86_400);
  });

  it('defaults retention to 365 days, or DRIFTWARDEN_AUDIT_RETENTION_DAYS, and refuses nonsense', () => {
    const saved = process.env.DRIFTWARDEN_AUDIT_RETENTION_DAYS;
    try {
      delete process.env.DRIFTWARDEN_AUDIT_RETENTION_DAYS;
      expect(trail().retentionDays).toBe(365);
      process.env.DRIFTWARDEN_AUDIT_RETENTION_DAYS = '90';
      expect(trail().retentionDays).toBe(90);
      process.env.DRIFTWARDEN_AUDIT_RETENTION_DAYS = 'forever';
      expect(() => trail()).toThrow(StateConfigError);
    } finally {
      if (saved === undefined) delete process.env.DRIFTWARDEN_AUDIT_RETENTION_DAYS;
      else process.env.DRIFTWARDEN_AUDIT_RETENTION_DAYS = saved;
    }
  });

  it('files a decision under each resource it names, but lists it once by time', async () => {
    const twoResources = plan('evt-two', {
      resources: [
        { type: 'instance', id: 'i-1' },
        { type: 'security-group', id: 'sg-0abc' },
      ],
    });
    await trail().record({ event: event('evt-two'), plan: twoResources, outcomes: [], decidedAt: '2026-05-04T10:00:00.000Z' });

    expect((await trail().byResource('i-1')).map((record) => record.eventId)).toEqual(['evt-two']);
    expect((await trail().byResource('sg-0abc')).map((record) => record.eventId)).toEqual(['evt-two']);
    expect((await trail().byTime('2026-05-04T00:00:00Z', '2026-05-04T23:59:59Z')).map((record) => record.eventId)).toEqual(['evt-two']);
  });

  it('records an event that names no resource under event#<id>', async () => {
    const tamper = event('evt-tamper', { eventName: 'StopLogging', resources: [] });
    await trail().record({ event: tamper, plan: plan('evt-tamper', { decision: 'observe', resources: [], steps: [] }), outcomes: [], decidedAt: '2026-05-04T12:00:00.000Z' });

    const [record] = await trail().byTime('2026-05-04T11:00:00Z', '2026-05-04T13:00:00Z');

    expect(record).toMatchObject({ pk: 'event#evt-tamper', sk: 'decision', eventName: 'StopLogging' });
  });

  it('queries a time range across days and pages, and nothing outside it', async () => {
    const audit = trail();
    const bigRaw = { blob: 'x'.repeat(90_000) };
    const times = [
      '2026-05-03T23:59:59.000Z',
      ...Array.from({ length: 14 }, (_, index) => `2026-05-04T${String(index + 1).padStart(2, '0')}:00:00.000Z`),
      '2026-05-05T00:30:00.000Z',
      '2026-05-05T02:00:00.000Z',
    ];
    for (const [index, decidedAt] of times.entries()) {
      await audit.record({ event: event(`evt-${index}`, { raw: bigRaw }), plan: plan(`evt-${index}`), outcomes: [], decidedAt });
    }

    const records = await audit.byTime('2026-05-04T00:00:00.000Z', '2026-05-05T01:00:00.000Z');

    // 14 items of ~90 KB on 2026-05-04 exceed one 1 MB Query page: all of them must still come back.
    expect(records.map((record) => record.decidedAt)).toEqual(times.slice(1, 16));
    expect((await audit.byResource('sg-0abc', { from: '2026-05-05' })).map((record) => record.decidedAt)).toEqual(times.slice(15));
  });

  it('caps a huge raw record at ~100 KB and says it was truncated', async () => {
    const huge = { blob: 'y'.repeat(300_000) };
    await trail().record({ event: event('evt-huge', { raw: huge }), plan: plan('evt-huge'), outcomes: [], decidedAt: '2026-05-04T10:00:00.000Z' });

    const [record] = await trail().byResource('sg-0abc');

    expect(record.rawTruncated).toBe(true);
    expect(record.raw.length).toBe(MAX_RAW_CHARS);
    expect(record.rawOriginalChars).toBeGreaterThan(300_000);
  });

  it('declares the IAM actions it uses', () => {
    expect([...IAM_ACTIONS].sort()).toEqual(['dynamodb:PutItem', 'dynamodb:Query']);
  });
});

describe('redactSecrets', () => {
  it('replaces secrets without changing its input', () => {
    const input = { Password: 'p', nested: [{ 'x-amz-security-token': 't', note: 'key AKIAIOSFODNN7EXAMPLE used' }] };

    const output = redactSecrets(input);

    expect(output).toEqual({ Password: REDACTED, nested: [{ 'x-amz-security-token': REDACTED, note: `key ${REDACTED} used` }] });
    expect(input.Password).toBe('p');
  });

  it('stops at its depth bound and on cycles instead of recursing forever', () => {
    const deep: Record<string, unknown> = {};
    let cursor = deep;
    for (let level = 0; level < 10; level += 1) {
      cursor.next = {};
      cursor = cursor.next as Record<string, unknown>;
    }
    const cyclic: Record<string, unknown> = { name: 'loop' };
    cyclic.self = cyclic;

    expect(JSON.stringify(redactSecrets(deep, 3))).toBe('{"next":{"next":{"next":"[TRUNCATED: too deep]"}}}');
    expect(redactSecrets(cyclic)).toEqual({ name: 'loop', self: '[CIRCULAR]' });
  });

  it('leaves look-alikes that are not access key ids alone', () => {
    expect(redactSecrets({ id: 'AKIA-not-a-key', ami: 'ami-0abcdef1234567890' })).toEqual({ id: 'AKIA-not-a-key', ami: 'ami-0abcdef1234567890' });
  });
});

describe('follow-ups to a decision', () => {
  it('files the watcher’s "replaced" under both instances and on the day index, linked to the original update', async () => {
    const audit = trail();
    await audit.recordFollowUp({
      followUpOf: 'driftwarden-instance-manual-change-ev1',
      status: 'replaced',
      detail: 'replaced i-0old with i-0new; i-0old terminated',
      resources: ['i-0old', 'i-0new'],
      accountId: '111122223333',
      region: 'eu-west-1',
      decidedAt: '2026-05-04T11:00:00Z',
    });
    const old = await audit.byResource('i-0old');
    const fresh = await audit.byResource('i-0new');
    expect(old).toHaveLength(1);
    expect(fresh).toHaveLength(1);
    expect(old[0]).toMatchObject({ decision: 'replaced', eventName: 'follow-up', eventId: 'driftwarden-instance-manual-change-ev1#replaced' });
    const day = await audit.byTime('2026-05-04T00:00:00Z', '2026-05-04T23:59:59Z');
    expect(day.map((r) => r.eventId)).toEqual(['driftwarden-instance-manual-change-ev1#replaced']);
  });
});
