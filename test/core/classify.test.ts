import { classify } from '../../functions/core/classify';
import type { Rule } from '../../functions/core/rules/types';
import { actors, contextOf, eventOf, ingress, policyOf, sgChange, trustingPolicy } from './rules/fixtures';

const sshToWorld = () => sgChange([ingress('0.0.0.0/0', 22)]);

describe('classify', () => {
  it('reports every rule one event breaks: SSH to the world by hand breaks two', () => {
    const result = classify(eventOf(sshToWorld()), trustingPolicy(), contextOf());
    expect(result.findings.map((f) => f.rule)).toEqual(['admin-port-open-to-world', 'security-group-manual-change']);
    expect(result).toMatchObject({ attempted: false, notConfigured: [], undetermined: [], trust: { trusted: false, reason: 'untrusted' } });
  });

  it('reports only the actor-blind rule when the pipeline opens SSH to the world', () => {
    const result = classify(eventOf(sshToWorld(), { actor: actors.pipeline }), trustingPolicy(), contextOf());
    expect(result.findings.map((f) => f.rule)).toEqual(['admin-port-open-to-world']);
    expect(result.trust).toMatchObject({ trusted: true, reason: 'pipeline-principal', self: false });
  });

  it("never reports driftwarden's own changes, whatever the rule", () => {
    const ownRevoke = eventOf(sshToWorld(), { actor: actors.driftwarden });
    const ownLaunch = eventOf({ kind: 'instance-launch', instanceIds: ['i-1'], imageId: 'ami-0bad0000000000bad', keyName: 'k' }, { actor: actors.driftwarden });
    for (const event of [ownRevoke, ownLaunch]) {
      const result = classify(event, trustingPolicy({ approvedAmis: { ids: ['ami-0a1b2c3d4e5f60001'] } }), contextOf());
      expect(result.trust.self).toBe(true);
      expect(result.findings).toEqual([]);
      expect(result.notConfigured).toEqual([]);
    }
  });

  it('reports nothing for read-only calls', () => {
    const result = classify(eventOf(sshToWorld(), { readOnly: true, eventName: 'DescribeSecurityGroups' }), trustingPolicy(), contextOf());
    expect(result.findings).toEqual([]);
  });

  it('does not evaluate rules whose mode is off', () => {
    const policy = trustingPolicy({ rules: { 'security-group-manual-change': { mode: 'off' } } });
    expect(classify(eventOf(sshToWorld()), policy, contextOf()).findings.map((f) => f.rule)).toEqual(['admin-port-open-to-world']);
  });

  it('reports a failed call as an attempt: LOW, "Attempted: ", and attempted=true', () => {
    const event = eventOf(sshToWorld(), { failure: { errorCode: 'UnauthorizedOperation' } });
    const result = classify(event, trustingPolicy(), contextOf());
    expect(result.attempted).toBe(true);
    expect(result.findings.map((f) => [f.rule, f.severity])).toEqual([
      ['admin-port-open-to-world', 'LOW'],
      ['security-group-manual-change', 'LOW'],
    ]);
    expect(result.findings[0]!.summary).toBe('Attempted: SSH (22/tcp) opened to 0.0.0.0/0 on sg-0abc by alice');
  });

  it('reports no attempt when attemptedViolations.report is off', () => {
    const event = eventOf(sshToWorld(), { failure: { errorCode: 'Client.InvalidPermission.Duplicate' } });
    const result = classify(event, trustingPolicy({ attemptedViolations: { report: false } }), contextOf());
    expect(result).toMatchObject({ attempted: true, findings: [] });
  });

  it('a failed call by a trusted actor to an actor-sensitive rule is no attempt at all', () => {
    const event = eventOf({ kind: 'key-pair', keyName: 'k', operation: 'create' }, { actor: actors.pipeline, failure: { errorCode: 'AccessDenied' } });
    expect(classify(event, trustingPolicy(), contextOf()).findings).toEqual([]);
  });

  it('a failed call changed nothing, so it holds nothing back for unreadable context', () => {
    const launch = eventOf({ kind: 'instance-launch', instanceIds: [], imageId: 'ami-0bad0000000000bad' }, { failure: { errorCode: 'UnauthorizedOperation' } });
    const result = classify(launch, trustingPolicy({ approvedAmis: { owners: ['444455556666'] } }), contextOf());
    expect(result.undetermined).toEqual([]);
  });

  it('passes on "not configured" and "undetermined" with the rule that said so', () => {
    const launch = eventOf({ kind: 'instance-launch', instanceIds: ['i-1'], imageId: 'ami-0bad0000000000bad' });
    expect(classify(launch, policyOf(), contextOf()).notConfigured).toEqual([{ rule: 'unapproved-ami', reason: expect.stringContaining('No approved AMIs are configured') }]);
    const undetermined = classify(launch, trustingPolicy({ approvedAmis: { owners: ['444455556666'] } }), contextOf()).undetermined;
    expect(undetermined).toEqual([{ rule: 'unapproved-ami', reason: expect.stringContaining('its owner is unknown'), resources: [{ type: 'instance', id: 'i-1' }, { type: 'image', id: 'ami-0bad0000000000bad' }] }]);
  });

  it('a rule that throws is reported as undetermined, and the other rules still run', () => {
    const broken: Rule = {
      id: 'shell-access',
      severity: 'HIGH',
      description: 'a rule with a bug',
      defaultMode: 'replace',
      actorMatters: true,
      evaluate: () => {
        throw new TypeError('boom');
      },
    };
    const ok: Rule = { ...broken, id: 'admin-port-open-to-world', evaluate: () => ({ findings: [] }) };
    const evaluate = jest.fn(ok.evaluate);
    const result = classify(eventOf(sshToWorld()), trustingPolicy(), contextOf(), [broken, { ...ok, evaluate }]);
    expect(result.undetermined).toEqual([{ rule: 'shell-access', reason: 'rule shell-access failed to evaluate: boom', resources: [{ type: 'security-group', id: 'sg-0abc' }] }]);
    expect(evaluate).toHaveBeenCalledTimes(1);
  });

  it('CloudFormation acting as an untrusted identity is not trusted when pipeline principals are configured', () => {
    const result = classify(eventOf(sgChange([ingress('10.0.0.0/8', 443)]), { actor: actors.cloudFormationAsAlice }), trustingPolicy(), contextOf());
    expect(result.trust).toMatchObject({ trusted: false, warnings: [] });
    expect(result.findings.map((f) => f.rule)).toEqual(['security-group-manual-change']);
  });

  it('with no pipeline principals, CloudFormation-invoked calls are trusted and the verdict carries the warning', () => {
    const result = classify(eventOf(sgChange([ingress('10.0.0.0/8', 443)]), { actor: actors.cloudFormationAsAlice }), policyOf(), contextOf());
    expect(result.trust.reason).toBe('cloudformation-weak-default');
    expect(result.trust.warnings).toHaveLength(1);
    expect(result.findings).toEqual([]);
  });
});
