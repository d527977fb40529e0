import { AlertLimiter } from '../../../functions/aws/state/alert-limiter';
import { useDynalite, type TestTables } from '../../helpers/dynalite';

const db = useDynalite();
let tables: TestTables;
let now: Date;

beforeEach(async () => {
  tables = await db.createTables();
  now = new Date('2026-05-04T10:01:00Z');
});

function limiter(options: { maxAlerts: number; windowMinutes?: number; maxSummaries?: number }): AlertLimiter {
  return new AlertLimiter({ tableName: tables.state, client: db.client(), now: () => now, windowMinutes: 5, ...options });
}

describe('AlertLimiter', () => {
  it('turns a storm of 500 findings in a minute into at most maxAlerts alerts and one pending summary', async () => {
    const alerts = limiter({ maxAlerts: 20 });

    const decisions = [];
    for (let batch = 0; batch < 10; batch += 1) {
      decisions.push(
        ...(await Promise.all(Array.from({ length: 50 }, (_, index) => alerts.admit('111122223333', `SSH opened on sg-${batch}-${index}`)))),
      );
    }

    expect(decisions.filter((decision) => decision.send)).toHaveLength(20);
    expect(decisions.filter((decision) => !decision.send)).toHaveLength(480);
    expect(Math.max(...decisions.map((decision) => decision.suppressedSoFar))).toBe(480);

    now = new Date('2026-05-04T10:05:00Z');
    const pending = await alerts.pendingSummaries();
    expect(pending).toHaveLength(1);
    expect(pending[0]).toMatchObject({
      accountId: '111122223333',
      windowStart: '2026-05-04T10:00:00.000Z',
      windowEnd: '2026-05-04T10:05:00.000Z',
      sent: 20,
      suppressed: 480,
      truncated: true,
    });
    expect(pending[0].summaries).toHaveLength(200);
    expect(pending[0].summaries[0]).toMatch(/^SSH opened on sg-\d+-\d+$/);
  });

  it('does not offer a summary before its window has ended', async () => {
    const alerts = limiter({ maxAlerts: 1 });
    await alerts.admit('111122223333', 'first');
    await alerts.admit('111122223333', 'second');

    expect(await alerts.pendingSummaries(new Date('2026-05-04T10:04:59Z'))).toEqual([]);
    expect(await alerts.pendingSummaries(new Date('2026-05-04T10:05:00Z'))).toHaveLength(1);
  });

  it('owes no summary for a window that stayed under the limit', async () => {
    const alerts = limiter({ maxAlerts: 3 });
    await alerts.admit('111122223333', 'one');
    await alerts.admit('111122223333', 'two');

    expect(await alerts.pendingSummaries(new Date('2026-05-04T11:00:00Z'))).toEqual([]);
  });

  it('sends each window summary once: after markSummarised it is no longer pending', async () => {
    const alerts = limiter({ maxAlerts: 1 });
    await alerts.admit('111122223333', 'sent');
    await alerts.admit('111122223333', 'folded a');
    await alerts.admit('444455556666', 'sent');
    await alerts.admit('444455556666', 'folded b');
    now = new Date('2026-05-04T10:06:00Z');

    const pending = await alerts.pendingSummaries();
    expect(pending.map((summary) => [summary.accountId, summary.summaries])).toEqual([
      ['111122223333', ['folded a']],
      ['444455556666', ['folded b']],
    ]);
    expect(await alerts.markSummarised(pending[0])).toBe(true);

    expect((await alerts.pendingSummaries()).map((summary) => summary.accountId)).toEqual(['444455556666']);
  });

  it('keeps a window pending when more alerts were folded in after the summary was read', async () => {
    const alerts = limiter({ maxAlerts: 1 });
    await alerts.admit('111122223333', 'sent');
    await alerts.admit('111122223333', 'folded 1');
    const [pending] = await alerts.pendingSummaries(new Date('2026-05-04T10:05:00Z'));
    await alerts.admit('111122223333', 'folded 2 (late writer)');

    expect(await alerts.markSummarised(pending)).toBe(false);
    expect(await alerts.pendingSummaries(new Date('2026-05-04T10:05:00Z'))).toHaveLength(1);
  });

  it('starts a new window with a fresh allowance', async () => {
    const alerts = limiter({ maxAlerts: 1 });
    await alerts.admit('111122223333', 'a');
    expect((await alerts.admit('111122223333', 'b')).send).toBe(false);

    now = new Date('2026-05-04T10:05:00Z');

    expect(await alerts.admit('111122223333', 'c')).toMatchObject({ send: true, suppressedSoFar: 0, windowStart: '2026-05-04T10:05:00.000Z' });
  });

  it('sends the alert and says why when its state cannot be used (never blinded)', async () => {
    const broken = new AlertLimiter({ tableName: 'no-such-table', client: db.client(), maxAlerts: 1 });

    const decision = await broken.admit('111122223333', 'SSH opened');

    expect(decision.send).toBe(true);
    expect(decision.unavailable).toMatch(/ResourceNotFoundException/);
  });
});
