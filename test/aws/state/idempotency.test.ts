import type { ChangeEvent } from '../../../functions/core/model';
import {
  EffectivelyOnce,
  ViolationClaims,
  idempotencyKeyFor,
  runOnce,
  sweepIdempotencyKey,
} from '../../../functions/aws/state/idempotency';
import { StateConfigError, StateInputError, StateUnavailableError } from '../../../functions/aws/state/shared';
import { useDynalite, type TestTables } from '../../helpers/dynalite';

const db = useDynalite();
let tables: TestTables;

beforeEach(async () => {
  tables = await db.createTables();
});

function once(): EffectivelyOnce {
  return new EffectivelyOnce({ tableName: tables.idempotency, client: db.client() });
}

describe('EffectivelyOnce', () => {
  it('runs the function once when the same key is delivered twice, and returns the stored result to the duplicate', async () => {
    const guard = once();
    const process = jest.fn(async () => ({ revoked: ['sgr-1'] }));

    const first = await guard.run('evt-1', process);
    const second = await guard.run('evt-1', process);

    expect(process).toHaveBeenCalledTimes(1);
    expect(first).toEqual({ status: 'processed', result: { revoked: ['sgr-1'] } });
    expect(second).toEqual({ status: 'duplicate', result: { revoked: ['sgr-1'] } });
  });

  it('runs the function once among 10 concurrent deliveries; the others are duplicates and none throws', async () => {
    const guard = once();
    let runs = 0;
    const process = async (): Promise<string> => {
      runs += 1;
      await new Promise((resolve) => setTimeout(resolve, 50));
      return 'contained';
    };

    const outcomes = await Promise.all(Array.from({ length: 10 }, () => guard.run('evt-concurrent', process)));

    expect(runs).toBe(1);
    expect(outcomes.filter((outcome) => outcome.status === 'processed')).toHaveLength(1);
    expect(outcomes.some((outcome) => outcome.status === 'duplicate-in-progress')).toBe(true);
    for (const outcome of outcomes.filter((o) => o.status !== 'processed')) {
      expect(['duplicate', 'duplicate-in-progress']).toContain(outcome.status);
    }
  });

  it('treats separate instances (separate Lambdas) as one: the record is in the table, not in memory', async () => {
    const process = jest.fn(async () => 1);

    await once().run('evt-shared', process);
    const again = await once().run('evt-shared', process);

    expect(process).toHaveBeenCalledTimes(1);
    expect(again.status).toBe('duplicate');
  });

  it('keeps completed records for 48 hours by default (at least 24 h, EventBridge retry period)', async () => {
    const before = Math.floor(Date.now() / 1000);
    await once().run('evt-ttl', async () => 'ok');
    const after = Math.ceil(Date.now() / 1000);

    const records = await db.scan(tables.idempotency);
    expect(records).toHaveLength(1);
    expect(records[0].id).toMatch(/^driftwarden#/);
    expect(records[0].status).toBe('COMPLETED');
    expect(records[0].expiration).toBeGreaterThanOrEqual(before + 48 * 3600);
    expect(records[0].expiration).toBeLessThanOrEqual(after + 48 * 3600);
  });

  it('locks a running key only for the in-progress timeout, so a run that dies does not block its retry for 48 h', async () => {
    const guard = new EffectivelyOnce({ tableName: tables.idempotency, client: db.client(), inProgressTimeoutSeconds: 120 });
    let lockExpiry: number | undefined;

    await guard.run('evt-lock', async () => {
      const [record] = await db.scan(tables.idempotency);
      expect(record.status).toBe('INPROGRESS');
      lockExpiry = Number(record.in_progress_expiration);
      return 'ok';
    });

    expect(lockExpiry).toBeGreaterThan(Date.now() + 100_000);
    expect(lockExpiry).toBeLessThanOrEqual(Date.now() + 120_000);
  });

  it('refuses an expiry shorter than 24 hours', () => {
    expect(() => new EffectivelyOnce({ tableName: 't', client: db.client(), expiresAfterSeconds: 3600 })).toThrow(StateConfigError);
  });

  it("rethrows the function's own error and releases the key, so a retry runs it", async () => {
    const guard = once();
    const failing = jest.fn(async () => {
      throw new Error('AccessDenied on RevokeSecurityGroupIngress');
    });

    await expect(guard.run('evt-retry', failing)).rejects.toThrow('AccessDenied on RevokeSecurityGroupIngress');
    const retry = await guard.run('evt-retry', async () => 'done');

    expect(retry).toEqual({ status: 'processed', result: 'done' });
  });

  it('reports a run that acted but could not store its completion as processed, with a warning, not as a failure', async () => {
    const client = db.client();
    client.middlewareStack.add(
      (next, context) => async (args) => {
        if (context.commandName === 'UpdateItemCommand') throw Object.assign(new Error('throttled'), { name: 'ThrottlingException' });
        return next(args);
      },
      { step: 'initialize', name: 'failCompletion' },
    );
    const guard = new EffectivelyOnce({ tableName: tables.idempotency, client });
    const process = jest.fn(async () => ({ isolated: 'i-1' }));

    const outcome = await guard.run('evt-unsaved', process);

    expect(process).toHaveBeenCalledTimes(1);
    expect(outcome).toMatchObject({ status: 'processed', result: { isolated: 'i-1' } });
    expect(outcome.status === 'processed' && outcome.warning).toMatch(/not completed \(ThrottlingException: throttled\)/);
  });

  it('does not run the function when the idempotency table cannot be used (fails closed)', async () => {
    const guard = new EffectivelyOnce({ tableName: 'no-such-table', client: db.client() });
    const process = jest.fn(async () => 'acted');

    await expect(guard.run('evt-x', process)).rejects.toBeInstanceOf(StateUnavailableError);
    expect(process).not.toHaveBeenCalled();
  });

  it('rejects an empty key without touching the table', async () => {
    const process = jest.fn(async () => 'acted');

    await expect(runOnce('  ', process, { tableName: tables.idempotency, client: db.client() })).rejects.toBeInstanceOf(StateInputError);
    expect(process).not.toHaveBeenCalled();
  });
});

describe('idempotencyKeyFor', () => {
  const base: Omit<ChangeEvent, 'id' | 'origin' | 'change'> = {
    eventSource: 'ec2.amazonaws.com',
    eventName: 'AuthorizeSecurityGroupIngress',
    time: '2026-01-01T00:00:00Z',
    accountId: '111122223333',
    region: 'us-east-1',
    actor: { type: 'IAMUser', name: 'alice' },
    readOnly: false,
    resources: [{ type: 'security-group', id: 'sg-1' }],
    raw: {},
  };

  it('uses the CloudTrail eventID as it is', () => {
    const event: ChangeEvent = { ...base, id: 'e5a3c1d2-0000-4000-8000-000000000001', origin: 'cloudtrail', change: { kind: 'other' } };
    expect(idempotencyKeyFor(event)).toBe('e5a3c1d2-0000-4000-8000-000000000001');
  });

  it('uses config:<resource>:<state id> for Config items, adding the prefix when missing', () => {
    const change = { kind: 'config-item' as const, resourceType: 'AWS::EC2::SecurityGroup', resourceId: 'sg-1', changeType: 'UPDATE', status: 'OK', oversized: false };
    expect(idempotencyKeyFor({ ...base, id: 'config:sg-1:1700000000001', origin: 'config', change })).toBe('config:sg-1:1700000000001');
    expect(idempotencyKeyFor({ ...base, id: '1700000000001', origin: 'config', change })).toBe('config:sg-1:1700000000001');
  });

  it('names sweeps after the violation they found', () => {
    expect(sweepIdempotencyKey('instance:i-1:contain')).toBe('sweep:instance:i-1:contain');
  });

  it('rejects an event without an id with a typed error', () => {
    expect(() => idempotencyKeyFor({ ...base, id: '', origin: 'cloudtrail', change: { kind: 'other' } })).toThrow(StateInputError);
  });
});

describe('ViolationClaims', () => {
  const sgRuleKey = 'sg-rule:sg-0abc:ingress:tcp:22-22:0.0.0.0/0';

  function claims(now?: () => Date): ViolationClaims {
    return new ViolationClaims({ tableName: tables.state, client: db.client(), ...(now ? { now } : {}) });
  }

  it('lets the CloudTrail event act and tells the Config item of the same rule who already did', async () => {
    const fromCloudTrail = await claims().claim([sgRuleKey], 'evt-cloudtrail', 3600);
    const fromConfig = await claims().claim([sgRuleKey], 'config:sg-0abc:17', 3600);

    expect(fromCloudTrail).toEqual({ claimed: [sgRuleKey], alreadyClaimed: [] });
    expect(fromConfig).toEqual({ claimed: [], alreadyClaimed: [{ key: sgRuleKey, by: 'evt-cloudtrail' }] });
  });

  it('gives exactly one of 10 concurrent claimants the violation', async () => {
    const results = await Promise.all(Array.from({ length: 10 }, (_, index) => claims().claim([sgRuleKey], `claimant-${index}`, 3600)));

    const winners = results.filter((result) => result.claimed.length === 1);
    expect(winners).toHaveLength(1);
    const winner = `claimant-${results.indexOf(winners[0])}`;
    for (const loser of results.filter((result) => result !== winners[0])) {
      expect(loser.alreadyClaimed).toEqual([{ key: sgRuleKey, by: winner }]);
    }
  });

  it('splits overlapping claims key by key rather than blocking both', async () => {
    const first = await claims().claim(['k-a'], 'config-item', 3600);
    const second = await claims().claim(['k-a', 'k-b'], 'cloudtrail-call', 3600);

    expect(first.claimed).toEqual(['k-a']);
    expect(second).toEqual({ claimed: ['k-b'], alreadyClaimed: [{ key: 'k-a', by: 'config-item' }] });
  });

  it('lets the same claimant claim again (a retry after a crash) and anyone claim an expired claim', async () => {
    let now = new Date('2026-03-01T00:00:00Z');
    const clock = (): Date => now;
    await claims(clock).claim(['k'], 'evt-1', 60);

    expect((await claims(clock).claim(['k'], 'evt-1', 60)).claimed).toEqual(['k']);
    expect((await claims(clock).claim(['k'], 'sweep:k', 60)).claimed).toEqual([]);
    now = new Date('2026-03-01T00:02:00Z');
    expect((await claims(clock).claim(['k'], 'sweep:k', 60)).claimed).toEqual(['k']);
  });

  it('releases only its own claims', async () => {
    await claims().claim(['k1'], 'evt-1', 3600);
    await claims().release(['k1'], 'evt-other');
    expect((await claims().claim(['k1'], 'evt-2', 3600)).claimed).toEqual([]);

    await claims().release(['k1'], 'evt-1');
    expect((await claims().claim(['k1'], 'evt-2', 3600)).claimed).toEqual(['k1']);
  });

  it('stores the claim with its expiry in the state table', async () => {
    const now = new Date('2026-03-01T00:00:00Z');
    await claims(() => now).claim([sgRuleKey], 'evt-1', 600);

    expect(await db.scan(tables.state)).toEqual([
      {
        pk: `violation#${sgRuleKey}`,
        sk: 'claim',
        violationKey: sgRuleKey,
        claimedBy: 'evt-1',
        claimedAt: '2026-03-01T00:00:00.000Z',
        expiresAt: Math.floor(now.getTime() / 1000) + 600,
      },
    ]);
  });
});
