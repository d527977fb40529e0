/**
 * Modes that must never act: global observe, the kill switch engaged, the kill switch
 * unreadable (fail closed), and the policy's dryRun. For EVERY positive sample no mutating
 * command reaches any client. PublishCommand is the one exception, decided per case below: the
 * responder still alerts in all four (observing is alerting), so a human learns what it would
 * have done.
 */
import { GetParameterCommand } from '@aws-sdk/client-ssm';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { awsError, EVENTS, harness, positiveSamples, restoreMocks, sample, type Harness, type HarnessOptions } from './harness';

const expected = JSON.parse(readFileSync(join(EVENTS, 'expected.json'), 'utf8')) as Record<string, { decision?: string }>;
/** Samples the sample policy acts on (contain/replace) when nothing stops it. */
const ACTING = positiveSamples().filter((name) => ['contain', 'replace'].includes(expected[name]!.decision ?? ''));
/** Samples that alert whatever the mode (every decision but the silent ones). */
const ALERTING = positiveSamples().filter((name) => !['quarantined', 'trusted', 'no-finding', 'off'].includes(expected[name]!.decision ?? ''));

interface ModeCase {
  name: string;
  options: HarnessOptions;
  arrange?: (h: Harness) => void;
  /** Whether the alert is still published in this mode. */
  publishes: boolean;
  /** What the summary says about why nothing was done (in a warning or an outcome). */
  reason: RegExp;
}

const MODES: ModeCase[] = [
  { name: 'global mode observe', options: { config: { globalMode: 'observe' } }, publishes: true, reason: /global mode is observe/ },
  {
    name: 'kill switch engaged ("on")',
    options: { account: { ssmParameters: { '/driftwarden/kill-switch': 'on' } } },
    publishes: true,
    reason: /kill switch .*engaged/,
  },
  {
    name: 'kill switch unreadable (AccessDenied → observe)',
    options: {},
    arrange: (h) => {
      h.m.ssm.on(GetParameterCommand, { Name: '/driftwarden/kill-switch' }).rejects(awsError('AccessDeniedException', 'not authorized to perform ssm:GetParameter'));
    },
    publishes: true,
    reason: /kill switch unreadable/,
  },
  { name: 'policy dryRun', options: { policy: (p) => ({ ...p, dryRun: true }) }, publishes: true, reason: /dry run/ },
];

let h: Harness | undefined;
afterEach(() => restoreMocks(h));

describe.each(MODES)('$name', ({ options, arrange, publishes, reason }) => {
  test.each(positiveSamples())('%s: no mutating command reaches any client', async (name) => {
    h = harness(options);
    arrange?.(h);
    const summary = await h.respond(sample(name));
    expect(summary.status).toBe('processed');
    expect(h.mutatingCalls({ exceptPublish: true })).toEqual([]);
    if (!publishes) expect(h.published()).toEqual([]);
  });

  test.each(ACTING)('%s: observes instead of acting, says why, and still alerts', async (name) => {
    h = harness(options);
    arrange?.(h);
    const summary = await h.respond(sample(name));
    expect(h.mutatingCalls({ exceptPublish: true })).toEqual([]);
    if (options.policy) {
      // dryRun keeps the decision and skips every mutating step.
      expect(summary.decision).toBe(expected[name]!.decision);
      for (const o of summary.outcomes!.filter((x) => x.action !== 'notify')) expect(o).toMatchObject({ status: 'skipped', detail: expect.stringMatching(reason) });
    } else {
      expect(summary.decision).toBe('observe');
      expect(JSON.stringify(summary.warnings ?? [])).toMatch(reason);
    }
    if (publishes) expect(h.published()).toHaveLength(1);
    expect(h.fake!.actionsUsed('111122223333')).toBe(0);
  });
});

test.each(ALERTING)('observe mode still publishes the alert for %s', async (name) => {
  h = harness({ config: { globalMode: 'observe' } });
  await h.respond(sample(name));
  expect(h.published()).toHaveLength(1);
  expect(h.mutatingCalls({ exceptPublish: true })).toEqual([]);
});

test('with the kill switch off, the same sample does act (the modes above are what stopped it)', async () => {
  h = harness({ account: { ssmParameters: { '/driftwarden/kill-switch': 'off' } } });
  const summary = await h.respond(sample(ACTING[0]!));
  expect(summary.decision).not.toBe('observe');
  expect(h.mutatingCalls({ exceptPublish: true }).length).toBeGreaterThan(0);
});
