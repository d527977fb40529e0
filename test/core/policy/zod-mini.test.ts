/**
 * The schemas are written with `zod/mini` (smaller Lambda bundles), which loads no locale:
 * left alone, every message zod writes itself reads "Invalid input". These tests pin the
 * English texts a user sees, and the defaults whose semantics differ between `_default` and
 * `prefault`, so that the move away from classic zod stays invisible.
 */
import { InputError } from '../../../functions/core/errors';
import { parsePolicy } from '../../../functions/core/policy/load';
import { defaultPolicy, policySchema } from '../../../functions/core/policy/schema';
import { parseSnapshot } from '../../../functions/core/snapshot';

function snapshotProblems(json: unknown): string[] {
  try {
    parseSnapshot(json);
  } catch (error) {
    expect(error).toBeInstanceOf(InputError);
    return (error as InputError).message.split('\n').slice(1).map((line) => line.trim());
  }
  throw new Error('the snapshot was accepted');
}

describe('account snapshot messages', () => {
  it("say in English what each field must be, in zod's own words", () => {
    const problems = snapshotProblems({
      accountId: 111122223333,
      region: 'eu-west-1',
      capturedAt: 'yesterday',
      instancez: [],
      instances: [{ instanceId: 'i-0a1b2c3d4e5f60001', state: 'asleep', targetGroups: ['tg-1'] }],
      images: [{ imageId: 'ami-0a1b2c3d4e5f60001', name: '' }],
      ssmParameters: { 'driftwarden/x': '1' },
    });
    expect(problems).toEqual([
      'accountId: Invalid input: expected string, received number',
      'capturedAt: Invalid ISO datetime',
      'instances[0].state: Invalid option: expected one of "pending"|"running"|"stopping"|"stopped"|"shutting-down"|"terminated"',
      'instances[0].targetGroups[0]: Invalid string: must start with "arn:"',
      'images[0].name: Too small: expected string to have >=1 characters',
      'ssmParameters.driftwarden/x: Invalid key in record',
      '(root): Unrecognized key: "instancez"',
    ]);
  });

  it('defaults are fresh for every snapshot: filling one snapshot’s empty tags leaves the next one’s empty', () => {
    const minimal = () => ({ accountId: '111122223333', region: 'eu-west-1', instances: [{ instanceId: 'i-0a1b2c3d4e5f60001' }] });
    const first = parseSnapshot(minimal());
    first.instances[0]!.tags['team'] = 'web';
    first.unavailable.push('i-0a1b2c3d4e5f60001');
    const second = parseSnapshot(minimal());
    expect(second.instances[0]!.tags).toEqual({});
    expect(second.unavailable).toEqual([]);
  });

  it('keep the messages the schema gives for ids', () => {
    expect(snapshotProblems({ accountId: '1', region: 'Europe' })).toEqual([
      'accountId: must be a 12-digit account id',
      'region: must be a region such as eu-west-1',
    ]);
  });
});

describe('policy defaults', () => {
  it('fill a partly written section key by key (prefault), and a rule given as {} gets its own default mode', () => {
    const policy = parsePolicy('rules:\n  shell-access: {}\ntrust:\n  awsServices: false\nlimits:\n  windowMinutes: 30\n');
    expect(policy.rules['shell-access']).toEqual({ mode: 'replace' });
    expect(policy.rules['admin-port-open-to-world']).toEqual({ mode: 'contain' });
    expect(policy.trust).toEqual({ ...defaultPolicy().trust, awsServices: false });
    expect(policy.limits).toEqual({ maxDestructiveActions: 10, windowMinutes: 30, maxAlertsPerWindow: 20, alertWindowMinutes: 5 });
  });

  it('are fresh for every parse, so that changing one policy cannot change the next', () => {
    const first = defaultPolicy();
    first.adminPorts.push(8080);
    first.trust.driftwardenPrincipals.length = 0;
    const second = policySchema.parse({});
    expect(second.adminPorts).toEqual([22, 3389]);
    expect(second.trust.driftwardenPrincipals).toHaveLength(2);
  });

  it('do not stand in for a value written as null: that is an error, as before', () => {
    expect(() => parsePolicy('trust: null\n', 'p.yaml')).toThrow('p.yaml:1:8 trust: must be a mapping (got nothing)');
  });
});
