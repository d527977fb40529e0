import { BlastRadiusLimiter, IAM_ACTIONS } from '../../../functions/aws/state/blast-radius';
import { StateInputError } from '../../../functions/aws/state/shared';
import { useDynalite, type TestTables } from '../../helpers/dynalite';

const db = useDynalite();
let tables: TestTables;
let now: Date;

beforeEach(async () => {
  tables = await db.createTables();
  now = new Date('2026-05-04T10:17:00Z');
});

function limiter(maxActions: number, windowMinutes = 60): BlastRadiusLimiter {
  return new BlastRadiusLimiter({ tableName: tables.state, client: db.client(), maxActions, windowMinutes, now: () => now });
}

describe('BlastRadiusLimiter', () => {
  it('allows N actions in a window and denies the N+1th, alerting on the first denial only', async () => {
    const limit = limiter(3);

    const allowed = [await limit.tryAcquire('111122223333', 1), await limit.tryAcquire('111122223333', 1), await limit.tryAcquire('111122223333', 1)];
    const firstDenied = await limit.tryAcquire('111122223333', 1);
    const secondDenied = await limit.tryAcquire('111122223333', 1);

    expect(allowed.map((decision) => [decision.allowed, decision.used])).toEqual([
      [true, 1],
      [true, 2],
      [true, 3],
    ]);
    expect(firstDenied).toMatchObject({ allowed: false, used: 3, limit: 3, firstDenial: true });
    expect(secondDenied).toMatchObject({ allowed: false, used: 3, limit: 3, firstDenial: false });
  });

  it('counts a multi-action plan all or nothing: it never half-runs past the limit', async () => {
    const limit = limiter(5);

    expect(await limit.tryAcquire('111122223333', 4)).toMatchObject({ allowed: true, used: 4 });
    expect(await limit.tryAcquire('111122223333', 2)).toMatchObject({ allowed: false, used: 4, firstDenial: true });
    expect(await limit.tryAcquire('111122223333', 1)).toMatchObject({ allowed: true, used: 5 });
  });

  it('under 20 concurrent acquires grants exactly the limit and reports exactly one first denial', async () => {
    const limit = limiter(5);

    const decisions = await Promise.all(Array.from({ length: 20 }, () => limit.tryAcquire('111122223333', 1)));

    expect(decisions.filter((decision) => decision.allowed)).toHaveLength(5);
    expect(decisions.filter((decision) => !decision.allowed)).toHaveLength(15);
    expect(decisions.filter((decision) => decision.firstDenial)).toHaveLength(1);
    expect(decisions.every((decision) => decision.limit === 5)).toBe(true);
  });

  it('starts a new window with a fresh allowance and a fresh first denial', async () => {
    const limit = limiter(1, 60);
    await limit.tryAcquire('111122223333', 1);
    expect(await limit.tryAcquire('111122223333', 1)).toMatchObject({ allowed: false, firstDenial: true, windowStart: '2026-05-04T10:00:00.000Z' });

    now = new Date('2026-05-04T11:00:00Z');

    expect(await limit.tryAcquire('111122223333', 1)).toMatchObject({ allowed: true, used: 1, windowStart: '2026-05-04T11:00:00.000Z' });
    expect(await limit.tryAcquire('111122223333', 1)).toMatchObject({ allowed: false, firstDenial: true });
  });

  it('refuses a speculative request quietly, leaving the one limit alert to the first real denial', async () => {
    const limit = limiter(2);
    const speculative = await limit.tryAcquire('111122223333', 3, { speculative: true });
    const exact = await limit.tryAcquire('111122223333', 2);
    const real = await limit.tryAcquire('111122223333', 1);

    expect([speculative.allowed, speculative.firstDenial]).toEqual([false, false]);
    expect([exact.allowed, exact.used]).toEqual([true, 2]);
    expect([real.allowed, real.firstDenial]).toEqual([false, true]);
  });

  it('gives back what a plan did not use', async () => {
    const limit = limiter(3);
    const taken = await limit.tryAcquire('111122223333', 3);
    await limit.release('111122223333', 2, taken.windowStart);
    const next = await limit.tryAcquire('111122223333', 2);
    expect([next.allowed, next.used]).toEqual([true, 3]);
  });

  it('keeps accounts apart', async () => {
    const limit = limiter(1);
    await limit.tryAcquire('111122223333', 1);

    expect(await limit.tryAcquire('444455556666', 1)).toMatchObject({ allowed: true, used: 1 });
  });

  it('denies everything with a limit of 0, and a plan larger than the limit', async () => {
    expect(await limiter(0).tryAcquire('111122223333', 1)).toMatchObject({ allowed: false, used: 0, firstDenial: true });
    expect(await limiter(3).tryAcquire('444455556666', 4)).toMatchObject({ allowed: false, used: 0, firstDenial: true });
  });

  it('stores the window under limit#<account> and expires it a day after the window ends', async () => {
    await limiter(3).tryAcquire('111122223333', 2);

    const item = await db.get(tables.state, { pk: 'limit#111122223333', sk: '2026-05-04T10:00:00.000Z' });
    expect(item?.used).toBe(2);
    expect(item?.expiresAt).toBe(Date.parse('2026-05-04T11:00:00Z') / 1000 + 86_400);
  });

  it('denies (fails closed) and says why when the table cannot be used', async () => {
    const broken = new BlastRadiusLimiter({ tableName: 'no-such-table', client: db.client(), maxActions: 3 });

    const decision = await broken.tryAcquire('111122223333', 1);

    expect(decision.allowed).toBe(false);
    expect(decision.unavailable).toMatch(/ResourceNotFoundException/);
  });

  it('rejects a non-positive action count with a typed error', async () => {
    await expect(limiter(3).tryAcquire('111122223333', 0)).rejects.toBeInstanceOf(StateInputError);
  });

  it('declares the IAM actions it uses', () => {
    expect([...IAM_ACTIONS].sort()).toEqual(['dynamodb:GetItem', 'dynamodb:UpdateItem']);
  });
});
