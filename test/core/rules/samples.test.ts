/**
 * Every sample event in events/ is normalized and classified under the sample policy
 * (events/policy.yaml) with context read from the sample account snapshot, and the rule
 * ids found are checked against events/expected.json.
 *
 * expected.json lists the rules a change MATCHES, whoever made it. classify reports fewer,
 * by design: none at all for driftwarden's own calls (it never reacts to itself), and not
 * the actor-sensitive rules when the actor is trusted (the plan records those as 'trusted').
 * Failed calls are reported as attempts (LOW, "Attempted: "), because the sample policy
 * reports attempted violations.
 */
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { classify } from '../../../functions/core/classify';
import { contextNeeds } from '../../../functions/core/context-needs';
import { gatherContext } from '../../../functions/core/gather';
import { normalizeText } from '../../../functions/core/normalize';
import { loadPolicyFile } from '../../../functions/core/policy/load';
import { ruleById } from '../../../functions/core/rules';
import { loadSnapshotFile, SnapshotContextReader } from '../../../functions/core/snapshot';

const EVENTS = join(__dirname, '..', '..', '..', 'events');
const expected = JSON.parse(readFileSync(join(EVENTS, 'expected.json'), 'utf8')) as Record<string, { rules: string[]; rejected: boolean; code?: string }>;
const policy = loadPolicyFile(join(EVENTS, 'policy.yaml'));
const reader = new SnapshotContextReader(loadSnapshotFile(join(EVENTS, 'account-snapshot.json')));
const samples = ['positive', 'negative', 'invalid'].flatMap((folder) =>
  readdirSync(join(EVENTS, folder))
    .filter((f) => f.endsWith('.json'))
    .map((f) => `${folder}/${f}`),
);

describe('the sample events', () => {
  it('every sample has an expectation and every expectation a sample', () => {
    expect([...samples].sort()).toEqual(Object.keys(expected).sort());
  });

  it('has positive samples for every rule', () => {
    const covered = new Set(samples.filter((s) => s.startsWith('positive/')).flatMap((s) => expected[s]?.rules ?? []));
    expect([...covered].sort()).toEqual(['admin-port-open-to-world', 'driftwarden-tamper', 'instance-manual-change', 'security-group-manual-change', 'shell-access', 'ssh-key-material', 'unapproved-ami']);
  });

  it.each(samples)('%s triggers the expected rules', async (sample) => {
    const want = expected[sample]!;
    const normalized = normalizeText(readFileSync(join(EVENTS, sample), 'utf8'));
    if (normalized.rejected) {
      expect({ rejected: true, code: normalized.code }).toEqual({ rejected: want.rejected, code: want.code });
      return;
    }
    expect(want.rejected).toBe(false);
    const event = normalized.event;
    const context = await gatherContext(contextNeeds(event, policy), reader, event.time);
    const result = classify(event, policy, context);

    const reported = result.trust.self ? [] : want.rules.filter((id) => !(result.trust.trusted && ruleById(id)?.actorMatters));
    expect(result.findings.map((f) => f.rule).sort()).toEqual([...reported].sort());
    expect(result.undetermined).toEqual([]);
    expect(result.notConfigured).toEqual([]);
    for (const finding of result.findings) {
      expect(finding.id).toBe(`${finding.rule}:${event.id}`);
      if (event.failure) expect([finding.severity, finding.summary.startsWith('Attempted: ')]).toEqual(['LOW', true]);
    }
  });
});
