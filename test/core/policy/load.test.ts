import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseDocument } from 'yaml';
import { InputError, PolicyError } from '../../../functions/core/errors';
import { loadPolicyFile, parsePolicy, policyJsonSchema, renderPolicyJsonSchema } from '../../../functions/core/policy/load';
import { defaultPolicy } from '../../../functions/core/policy/schema';

const ROOT = join(__dirname, '..', '..', '..');

function problemsOf(text: string, source = 'policy.yaml'): string[] {
  try {
    parsePolicy(text, source);
  } catch (err) {
    expect(err).toBeInstanceOf(PolicyError);
    return (err as PolicyError).message.split('\n').slice(1).map((line) => line.trim());
  }
  throw new Error('expected the policy to be rejected');
}

describe('parsePolicy', () => {
  it('applies every default to an empty document', () => {
    expect(parsePolicy('')).toEqual(defaultPolicy());
    expect(parsePolicy('# only a comment\n')).toEqual(defaultPolicy());
  });

  it('keeps what the file sets and defaults the rest, including nested defaults', () => {
    const policy = parsePolicy('rules:\n  shell-access:\n    mode: observe\nforensicHold:\n  duration: 2\n');
    expect(policy.rules['shell-access'].mode).toBe('observe');
    expect(policy.rules['admin-port-open-to-world'].mode).toBe('contain');
    expect(policy.forensicHold).toEqual({ duration: 2, force: false });
    expect(policy.quarantineTag).toBe('driftwarden:quarantined');
    expect(policy.killSwitchParameter).toBe('/driftwarden/kill-switch');
  });

  it('names a bad mode with its line, column, dotted path and the allowed values', () => {
    const text = 'version: 1\nrules:\n  shell-access:\n    mode: nuke\n';
    expect(problemsOf(text)).toEqual(['policy.yaml:4:11 rules.shell-access.mode: must be one of off, observe, contain, replace (got "nuke")']);
  });

  it('rejects unknown keys and says which key, where, and what is allowed', () => {
    const problems = problemsOf('dryrun: true\ntrust:\n  pipelinePrincipal: []\n');
    expect(problems[0]).toMatch(/^policy\.yaml:1:1 dryrun: unknown key \(allowed: version, dryRun, rules,/);
    expect(problems[1]).toBe(
      'policy.yaml:3:3 trust.pipelinePrincipal: unknown key (allowed: pipelinePrincipals, stackServiceRoles, driftwardenPrincipals, awsServices, serviceLinkedRoles)',
    );
  });

  it('lists every problem in one error, in file order, with list indices in the path', () => {
    const text = [
      'adminPorts: [22, 70000]', // 1
      'approvedAmis:', // 2
      '  ids: [ami-0a1b2c3d4e5f60001, not-an-ami]', // 3
      'forensicHold:', // 4
      '  duration: PT2X', // 5
      'exemptions:', // 6
      '  maxDurationDays: 0', // 7
      'trust:', // 8
      '  pipelinePrincipals: [pipeline-deploy]', // 9
    ].join('\n');
    expect(problemsOf(text, 'events/policy.yaml')).toEqual([
      'events/policy.yaml:1:18 adminPorts[1]: must be at most 65535 (got 70000)',
      'events/policy.yaml:3:32 approvedAmis.ids[1]: must be an AMI id (ami-…) (got "not-an-ami")',
      'events/policy.yaml:5:13 forensicHold.duration: must be an ISO-8601 duration such as PT24H or P2D (got "PT2X")',
      'events/policy.yaml:7:20 exemptions.maxDurationDays: must be greater than 0 (got 0)',
      'events/policy.yaml:9:24 trust.pipelinePrincipals[0]: must be an ARN or an ARN pattern starting with arn: or * (got "pipeline-deploy")',
    ]);
  });

  it('explains a wrong type in words', () => {
    expect(problemsOf('dryRun: "yes"\nadminPorts: 22\n')).toEqual([
      'policy.yaml:1:9 dryRun: must be true or false (got "yes")',
      'policy.yaml:2:13 adminPorts: must be a list (got 22)',
    ]);
  });

  it('rejects a document that is not a mapping', () => {
    expect(problemsOf('- 1\n- 2\n')).toEqual(['policy.yaml:1:1 (root): must be a mapping (got a list)']);
  });

  it('reports YAML syntax errors with their position', () => {
    const [problem] = problemsOf('rules:\n  shell-access: {mode: observe\nversion: 1\n');
    expect(problem).toMatch(/^policy\.yaml:\d+:\d+ \(root\): YAML syntax error: /);
    expect(problemsOf('dryRun: true\ndryRun: false\n')).toEqual(['policy.yaml:2:1 (root): YAML syntax error: Map keys must be unique']);
  });

  it('carries every problem as data too, for callers that format their own', () => {
    try {
      parsePolicy('rules:\n  shell-access:\n    mode: nuke\n');
      throw new Error('expected a PolicyError');
    } catch (err) {
      expect((err as PolicyError).issues).toEqual([
        { path: 'rules.shell-access.mode', message: 'must be one of off, observe, contain, replace (got "nuke")', line: 3, column: 11 },
      ]);
    }
  });
});

describe('loadPolicyFile', () => {
  it('reads a file and names it in errors', () => {
    const dir = mkdtempSync(join(tmpdir(), 'dw-policy-'));
    const file = join(dir, 'p.yaml');
    writeFileSync(file, 'limits:\n  windowMinutes: -5\n');
    expect(() => loadPolicyFile(file)).toThrow(`${file}:2:18 limits.windowMinutes: must be greater than 0 (got -5)`);
  });

  it('throws an InputError when the file is missing', () => {
    expect(() => loadPolicyFile('/nonexistent/driftwarden/policy.yaml')).toThrow(InputError);
    expect(() => loadPolicyFile('/nonexistent/driftwarden/policy.yaml')).toThrow('policy file /nonexistent/driftwarden/policy.yaml does not exist');
  });
});

describe('the shipped policy files', () => {
  it('policy/default.yaml states exactly the defaults, every key present', () => {
    const text = readFileSync(join(ROOT, 'policy', 'default.yaml'), 'utf8');
    expect(text.startsWith('# yaml-language-server: $schema=./policy.schema.json\n')).toBe(true);
    // As written (no defaults applied), it already equals the default policy.
    expect(parseDocument(text).toJS()).toEqual(defaultPolicy());
    expect(parsePolicy(text)).toEqual(defaultPolicy());
  });

  it('events/policy.yaml trusts the pipeline and uses every mode', () => {
    const policy = loadPolicyFile(join(ROOT, 'events', 'policy.yaml'));
    expect(policy.trust.pipelinePrincipals).toEqual(['arn:aws:iam::111122223333:role/pipeline-deploy']);
    expect(policy.trust.stackServiceRoles).toEqual(['arn:aws:iam::111122223333:role/cfn-service-role']);
    expect(policy.approvedAmis).toEqual({
      ids: ['ami-0a1b2c3d4e5f60001', 'ami-0a1b2c3d4e5f60002'],
      owners: ['444455556666'],
      ssmParameterPath: '/driftwarden/golden-amis/',
      maxAgeDays: 180,
    });
    expect(policy.exemptions.setters).toEqual(['arn:aws:iam::111122223333:role/break-glass-*']);
    const modes = Object.fromEntries(Object.entries(policy.rules).map(([rule, s]) => [rule, s.mode]));
    expect(modes).toEqual({
      'admin-port-open-to-world': 'contain',
      'security-group-manual-change': 'observe',
      'instance-manual-change': 'replace',
      'shell-access': 'replace',
      'unapproved-ami': 'contain',
      'ssh-key-material': 'contain',
      'driftwarden-tamper': 'contain',
    });
  });
});

describe('policy JSON Schema', () => {
  it('the committed policy/policy.schema.json is what scripts/gen-policy-schema.ts generates', () => {
    const committed = readFileSync(join(ROOT, 'policy', 'policy.schema.json'), 'utf8');
    expect(committed).toBe(renderPolicyJsonSchema());
  });

  it('describes the file as written: strict, with defaults stated', () => {
    const schema = policyJsonSchema() as { $id: string; title: string; additionalProperties: boolean; required?: string[]; properties: Record<string, { default?: unknown }> };
    expect(schema.$id).toBe('urn:driftwarden:policy:v1');
    expect(schema.title).toBe('driftwarden policy');
    expect(schema.additionalProperties).toBe(false);
    expect(schema.required ?? []).toEqual([]);
    expect(schema.properties.quarantineTag.default).toBe('driftwarden:quarantined');
  });
});
