import { ReplacementLedger, TERMINATION_DUE_PARTITION, type ReplacementInput } from '../../../functions/aws/state/replacements';
import { StateInputError, StateUnavailableError } from '../../../functions/aws/state/shared';
import { useDynalite } from '../../helpers/dynalite';

const db = useDynalite();

const input = (over: Partial<ReplacementInput> = {}): ReplacementInput => ({
  clientRequestToken: 'driftwarden-instance-manual-change-evt-1',
  replacementToken: 'dw-0123456789abcdef01234567',
  findingId: 'instance-manual-change:evt-1',
  eventId: 'evt-1',
  instanceId: 'i-0old',
  stackName: 'web',
  stackId: 'arn:aws:cloudformation:eu-west-1:111122223333:stack/web/1',
  logicalId: 'WebInstance',
  accountId: '111122223333',
  region: 'eu-west-1',
  holdSeconds: 3600,
  force: false,
  quarantinedAt: '2026-03-01T10:00:00.000Z',
  ...over,
});

async function ledgerAt(time: string) {
  const tables = await db.createTables();
  let now = new Date(time);
  const ledger = new ReplacementLedger({ client: db.client(), tableName: tables.state, now: () => now });
  return { ledger, tables, setNow: (t: string) => (now = new Date(t)) };
}

describe('ReplacementLedger', () => {
  it('records a replacement once; a retry of the same replace step leaves the first record as it is', async () => {
    const { ledger, tables } = await ledgerAt('2026-03-01T10:00:05Z');
    expect(await ledger.record(input())).toBe(true);
    expect(await ledger.record(input({ instanceId: 'i-other' }))).toBe(false);
    const item = await db.get(tables.state, { pk: 'replacement#driftwarden-instance-manual-change-evt-1', sk: 'record' });
    expect(item).toMatchObject({ status: 'replacing', instanceId: 'i-0old', recordedAt: '2026-03-01T10:00:05.000Z' });
    expect(item?.gsi1pk).toBeUndefined();
  });

  it('finds a recorded token and answers undefined for a token it did not record', async () => {
    const { ledger } = await ledgerAt('2026-03-01T10:00:05Z');
    await ledger.record(input());
    expect(await ledger.find('driftwarden-instance-manual-change-evt-1')).toMatchObject({ status: 'replacing', holdSeconds: 3600, force: false, stackName: 'web' });
    expect(await ledger.find('driftwarden-someone-else')).toBeUndefined();
  });

  it('makes the termination-due transition exactly once, and lists it only after the hold has passed', async () => {
    const { ledger } = await ledgerAt('2026-03-01T10:00:05Z');
    await ledger.record(input());
    const first = await ledger.markTerminationDue('driftwarden-instance-manual-change-evt-1', { newInstanceId: 'i-0new', terminateAfter: new Date('2026-03-01T11:30:00Z') });
    const second = await ledger.markTerminationDue('driftwarden-instance-manual-change-evt-1', { newInstanceId: 'i-0new', terminateAfter: new Date('2026-03-01T11:45:00Z') });
    expect(first).toMatchObject({ transitioned: true, record: { status: 'termination-due', newInstanceId: 'i-0new', terminateAfter: '2026-03-01T11:30:00.000Z' } });
    expect(second).toMatchObject({ transitioned: false, record: { status: 'termination-due', terminateAfter: '2026-03-01T11:30:00.000Z' } });

    expect(await ledger.dueTerminations(new Date('2026-03-01T11:29:59Z'))).toEqual([]);
    const due = await ledger.dueTerminations(new Date('2026-03-01T11:30:00Z'));
    expect(due.map((r) => [r.clientRequestToken, r.instanceId, r.newInstanceId])).toEqual([['driftwarden-instance-manual-change-evt-1', 'i-0old', 'i-0new']]);
  });

  it('takes a terminated instance out of the due list, and a second markTerminated changes nothing', async () => {
    const { ledger, tables } = await ledgerAt('2026-03-01T10:00:05Z');
    await ledger.record(input());
    await ledger.markTerminationDue('driftwarden-instance-manual-change-evt-1', { newInstanceId: 'i-0new', terminateAfter: new Date('2026-03-01T10:00:05Z') });
    expect((await ledger.markTerminated('driftwarden-instance-manual-change-evt-1')).transitioned).toBe(true);
    expect((await ledger.markTerminated('driftwarden-instance-manual-change-evt-1')).transitioned).toBe(false);
    expect(await ledger.dueTerminations(new Date('2026-03-02T00:00:00Z'))).toEqual([]);
    const item = await db.get(tables.state, { pk: 'replacement#driftwarden-instance-manual-change-evt-1', sk: 'record' });
    expect(item).toMatchObject({ status: 'terminated', terminatedAt: '2026-03-01T10:00:05.000Z' });
    expect(item?.gsi1pk).toBeUndefined();
  });

  it('keeps a quarantine for good: once kept, it can never become due or terminated', async () => {
    const { ledger } = await ledgerAt('2026-03-01T10:00:05Z');
    await ledger.record(input());
    expect(await ledger.markKept('driftwarden-instance-manual-change-evt-1', 'stack UPDATE_ROLLBACK_COMPLETE')).toMatchObject({ transitioned: true, record: { status: 'kept', keptReason: 'stack UPDATE_ROLLBACK_COMPLETE' } });
    expect((await ledger.markTerminationDue('driftwarden-instance-manual-change-evt-1', { newInstanceId: 'i-x', terminateAfter: new Date(0) })).transitioned).toBe(false);
    expect((await ledger.markTerminated('driftwarden-instance-manual-change-evt-1')).transitioned).toBe(false);
    expect(await ledger.dueTerminations(new Date('2030-01-01T00:00:00Z'))).toEqual([]);
  });

  it('keeps a failed termination due, with its reason, so that the next sweep tries again', async () => {
    const { ledger } = await ledgerAt('2026-03-01T10:00:05Z');
    await ledger.record(input({ holdSeconds: 0 }));
    await ledger.markTerminationDue('driftwarden-instance-manual-change-evt-1', { newInstanceId: 'i-0new', terminateAfter: new Date('2026-03-01T10:00:05Z') });
    await ledger.noteTerminationError('driftwarden-instance-manual-change-evt-1', 'termination protection set by someone else');
    const [due] = await ledger.dueTerminations(new Date('2026-03-01T10:00:06Z'));
    expect(due).toMatchObject({ status: 'termination-due', lastTerminationError: 'termination protection set by someone else' });
  });

  it('pages through many due terminations, oldest first', async () => {
    const { ledger } = await ledgerAt('2026-03-01T10:00:05Z');
    for (let i = 0; i < 12; i++) {
      const token = `driftwarden-t${String(i).padStart(2, '0')}`;
      await ledger.record(input({ clientRequestToken: token, instanceId: `i-${i}` }));
      await ledger.markTerminationDue(token, { newInstanceId: `i-new-${i}`, terminateAfter: new Date(Date.UTC(2026, 2, 1, 12, 59 - i)) });
    }
    const due = await ledger.dueTerminations(new Date('2026-03-01T13:00:00Z'));
    expect(due.map((r) => r.instanceId)).toEqual(['i-11', 'i-10', 'i-9', 'i-8', 'i-7', 'i-6', 'i-5', 'i-4', 'i-3', 'i-2', 'i-1', 'i-0']);
    expect(TERMINATION_DUE_PARTITION).toBe('termination-due');
  });

  it('rejects input it cannot use, and writes nothing', async () => {
    const { ledger, tables } = await ledgerAt('2026-03-01T10:00:05Z');
    await expect(ledger.record(input({ clientRequestToken: ' ' }))).rejects.toBeInstanceOf(StateInputError);
    await expect(ledger.record(input({ instanceId: '' }))).rejects.toBeInstanceOf(StateInputError);
    await expect(ledger.record(input({ holdSeconds: -1 }))).rejects.toBeInstanceOf(StateInputError);
    await expect(ledger.find('')).rejects.toBeInstanceOf(StateInputError);
    expect(await db.scan(tables.state)).toEqual([]);
  });

  it('says the store is unavailable when the table cannot be reached', async () => {
    const ledger = new ReplacementLedger({ client: db.client(), tableName: 'no-such-table' });
    await expect(ledger.find('driftwarden-x')).rejects.toBeInstanceOf(StateUnavailableError);
    await expect(ledger.dueTerminations(new Date())).rejects.toBeInstanceOf(StateUnavailableError);
  });
});
