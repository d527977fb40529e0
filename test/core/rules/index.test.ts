import { RULE_IDS } from '../../../functions/core/model';
import { defaultPolicy } from '../../../functions/core/policy/schema';
import { RULES, ruleById } from '../../../functions/core/rules';

describe('the rule list', () => {
  it('holds exactly one rule per rule id, in the documented order', () => {
    expect(RULES.map((r) => r.id)).toEqual([...RULE_IDS]);
  });

  it("each rule's default mode is the policy schema's default", () => {
    const policy = defaultPolicy();
    for (const rule of RULES) expect([rule.id, rule.defaultMode]).toEqual([rule.id, policy.rules[rule.id].mode]);
  });

  it('every rule says what it catches', () => {
    for (const rule of RULES) expect(rule.description.length).toBeGreaterThan(20);
  });

  it('finds a rule by id, and nothing for an unknown id', () => {
    expect(ruleById('shell-access')?.severity).toBe('HIGH');
    expect(ruleById('driftwarden-tamper')?.severity).toBe('CRITICAL');
    expect(ruleById('no-such-rule')).toBeUndefined();
  });
});
