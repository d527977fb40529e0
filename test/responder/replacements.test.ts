/**
 * Replacements are followed to the end through the ledger: a stack replacement is handed to the
 * watcher (matched by its ClientRequestToken); an Auto Scaling member under a forensic hold has
 * no stack event to wait for, so it is marked due for the sweeper at once.
 */
import type { ResponderState } from '../../functions/responder/respond';
import { fakeState, harness, INSTANCES, NOW, restoreMocks, SAMPLES, sample, type Harness } from './harness';

let h: Harness | undefined;
afterEach(() => restoreMocks(h));

function withLedger() {
  const ledger = { record: jest.fn(async () => true), markTerminationDue: jest.fn(async () => 'ok') };
  const state: ResponderState = { ...fakeState(), replacements: ledger };
  return { ledger, state };
}

test('a stack replacement is recorded for the watcher, with its token, stack and logical id', async () => {
  const { ledger, state } = withLedger();
  h = harness({ state });
  await h.respond(sample(SAMPLES.stackInstance));
  expect(ledger.record).toHaveBeenCalledTimes(1);
  expect(ledger.record).toHaveBeenCalledWith(
    expect.objectContaining({
      instanceId: INSTANCES.stack,
      clientRequestToken: expect.stringMatching(/^driftwarden-/),
      stackName: expect.any(String),
      logicalId: expect.any(String),
      holdSeconds: 86_400,
    }),
  );
  expect(ledger.markTerminationDue).not.toHaveBeenCalled();
});

test('an Auto Scaling member under a forensic hold is marked due for the sweeper when the hold ends', async () => {
  const { ledger, state } = withLedger();
  h = harness({ state });
  await h.respond(sample(SAMPLES.asgMember));
  expect(ledger.record).toHaveBeenCalledWith(expect.objectContaining({ instanceId: INSTANCES.asg, replacementToken: 'auto-scaling-group' }));
  const [token, due] = ledger.markTerminationDue.mock.calls[0] as unknown as [string, { terminateAfter: Date }];
  expect(token).toBe((ledger.record.mock.calls[0] as unknown as [{ clientRequestToken: string }])[0].clientRequestToken);
  expect(due.terminateAfter.toISOString()).toBe(new Date(NOW.getTime() + 86_400_000).toISOString());
});
