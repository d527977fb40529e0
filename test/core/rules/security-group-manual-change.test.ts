import { securityGroupManualChange } from '../../../functions/core/rules/security-group-manual-change';
import { actors, eventOf, findingsOf, ingress, inputOf, policyOf, sgChange, trustingPolicy } from './fixtures';

describe('security-group-manual-change', () => {
  it('is MEDIUM, observes by default, and cares who did it', () => {
    expect(securityGroupManualChange).toMatchObject({ severity: 'MEDIUM', defaultMode: 'observe', actorMatters: true });
  });

  it('flags an untrusted user adding a non-admin rule, and names exactly the added rules to revoke', () => {
    const rule = { ...ingress('10.0.0.0/8', 443), ruleId: 'sgr-0443' };
    const event = eventOf(sgChange([rule]));
    const [finding] = findingsOf(securityGroupManualChange.evaluate(inputOf(event)));
    expect(finding).toEqual({
      id: `security-group-manual-change:${event.id}`,
      rule: 'security-group-manual-change',
      severity: 'MEDIUM',
      summary: 'alice added 1 rule on sg-0abc by hand: tcp 443 from 10.0.0.0/8',
      resources: [{ type: 'security-group', id: 'sg-0abc' }],
      offendingRules: [{ groupId: 'sg-0abc', rules: [rule] }],
    });
  });

  it('names the modified rules of ModifySecurityGroupRules as revocable', () => {
    const rule = { ...ingress('10.0.0.0/8', 8080), ruleId: 'sgr-1' };
    const [finding] = findingsOf(securityGroupManualChange.evaluate(inputOf(eventOf(sgChange([rule], 'modify')))));
    expect(finding!.offendingRules).toEqual([{ groupId: 'sg-0abc', rules: [rule] }]);
  });

  it('flags revokes and description changes with nothing to revoke', () => {
    for (const operation of ['revoke', 'describe'] as const) {
      const [finding] = findingsOf(securityGroupManualChange.evaluate(inputOf(eventOf(sgChange([ingress('10.0.0.0/8', 443)], operation)))));
      expect(finding!.resources).toEqual([{ type: 'security-group', id: 'sg-0abc' }]);
      expect(finding!.offendingRules).toBeUndefined();
    }
  });

  it('does not flag the pipeline, or CloudFormation acting as the trusted stack service role', () => {
    for (const actor of [actors.pipeline, actors.cloudFormationAsServiceRole]) {
      expect(findingsOf(securityGroupManualChange.evaluate(inputOf(eventOf(sgChange([ingress('10.0.0.0/8', 443)]), { actor }))))).toEqual([]);
    }
  });

  it('flags CloudFormation acting as an untrusted identity when pipeline principals are configured', () => {
    const input = inputOf(eventOf(sgChange([ingress('10.0.0.0/8', 443)]), { actor: actors.cloudFormationAsAlice }), trustingPolicy());
    expect(input.trust).toMatchObject({ trusted: false, reason: 'untrusted' });
    expect(findingsOf(securityGroupManualChange.evaluate(input))).toHaveLength(1);
  });

  it('trusts CloudFormation-invoked calls when no pipeline principal is configured, with the warning', () => {
    const input = inputOf(eventOf(sgChange([ingress('10.0.0.0/8', 443)]), { actor: actors.cloudFormationAsAlice }), policyOf());
    expect(input.trust.reason).toBe('cloudformation-weak-default');
    expect(input.trust.warnings[0]).toContain('set trust.pipelinePrincipals');
    expect(findingsOf(securityGroupManualChange.evaluate(input))).toEqual([]);
  });

  it('ignores changes that are not to security-group rules', () => {
    const event = eventOf({ kind: 'key-pair', keyName: 'k', operation: 'create' });
    expect(findingsOf(securityGroupManualChange.evaluate(inputOf(event)))).toEqual([]);
  });
});
