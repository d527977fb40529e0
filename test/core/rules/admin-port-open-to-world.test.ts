import fc from 'fast-check';
import type { SgRule } from '../../../functions/core/model';
import { coversPort, isWholeInternet } from '../../../functions/core/net';
import { adminPortOpenToWorld } from '../../../functions/core/rules/admin-port-open-to-world';
import { actors, eventOf, findingsOf, ingress, inputOf, policyOf, sgChange, trustingPolicy } from './fixtures';

const evaluate = (rules: SgRule[], operation: 'authorize' | 'revoke' | 'modify' | 'describe' = 'authorize', policy = trustingPolicy()) =>
  adminPortOpenToWorld.evaluate(inputOf(eventOf(sgChange(rules, operation)), policy));

describe('admin-port-open-to-world', () => {
  it('is HIGH, contains by default, and does not care who did it', () => {
    expect(adminPortOpenToWorld).toMatchObject({ id: 'admin-port-open-to-world', severity: 'HIGH', defaultMode: 'contain', actorMatters: false });
  });

  it('flags SSH opened to 0.0.0.0/0, naming the port, the range and the group', () => {
    const event = eventOf(sgChange([{ ...ingress('0.0.0.0/0', 22), ruleId: 'sgr-0001' }]));
    const [finding, ...rest] = findingsOf(adminPortOpenToWorld.evaluate(inputOf(event)));
    expect(rest).toHaveLength(0);
    expect(finding).toMatchObject({
      id: `admin-port-open-to-world:${event.id}`,
      rule: 'admin-port-open-to-world',
      severity: 'HIGH',
      resources: [{ type: 'security-group', id: 'sg-0abc' }],
      offendingRules: [{ groupId: 'sg-0abc', rules: [{ ...ingress('0.0.0.0/0', 22), ruleId: 'sgr-0001' }] }],
    });
    expect(finding!.summary).toBe('SSH (22/tcp) opened to 0.0.0.0/0 on sg-0abc by alice');
  });

  it('counts 203.0.113.7/0 and ::/0 as the whole internet', () => {
    expect(findingsOf(evaluate([ingress('203.0.113.7/0', 22)]))).toHaveLength(1);
    const [rdp] = findingsOf(evaluate([ingress('::/0', 3389)]));
    expect(rdp!.summary).toBe('RDP (3389/tcp) opened to ::/0 on sg-0abc by alice');
  });

  it('does not flag SSH from 10.0.0.0/8', () => {
    expect(findingsOf(evaluate([ingress('10.0.0.0/8', 22)]))).toEqual([]);
  });

  it('a permission listing 10.0.0.0/8 and 0.0.0.0/0 offends with its 0.0.0.0/0 rule alone', () => {
    const [finding] = findingsOf(evaluate([ingress('10.0.0.0/8', 22), ingress('0.0.0.0/0', 22), ingress('192.168.0.0/16', 22)]));
    expect(finding!.offendingRules).toEqual([{ groupId: 'sg-0abc', rules: [ingress('0.0.0.0/0', 22)] }]);
  });

  it('protocol -1 to the world opens SSH and RDP', () => {
    const [finding] = findingsOf(evaluate([{ direction: 'ingress', protocol: '-1', cidrIpv4: '0.0.0.0/0' }]));
    expect(finding!.summary).toBe('SSH (22, all protocols) and RDP (3389, all protocols) opened to 0.0.0.0/0 on sg-0abc by alice');
  });

  it('a range 0-1024 opens SSH but not RDP', () => {
    const [finding] = findingsOf(evaluate([ingress('0.0.0.0/0', 0, 1024)]));
    expect(finding!.summary).toBe('SSH (22/tcp) opened to 0.0.0.0/0 on sg-0abc by alice');
  });

  it('counts RDP on UDP 3389', () => {
    const [finding] = findingsOf(evaluate([ingress('0.0.0.0/0', 3389, 3389, 'udp')]));
    expect(finding!.summary).toContain('RDP (3389/udp)');
  });

  it('does not flag HTTPS to the world, ICMP, or egress to the world', () => {
    expect(findingsOf(evaluate([ingress('0.0.0.0/0', 443)]))).toEqual([]);
    expect(findingsOf(evaluate([ingress('0.0.0.0/0', -1, -1, 'icmp')]))).toEqual([]);
    expect(findingsOf(evaluate([{ ...ingress('0.0.0.0/0', 22), direction: 'egress' }]))).toEqual([]);
  });

  it('uses the configured admin ports', () => {
    const policy = policyOf({ adminPorts: [8022] });
    expect(findingsOf(evaluate([ingress('0.0.0.0/0', 22)], 'authorize', policy))).toEqual([]);
    const [finding] = findingsOf(evaluate([ingress('0.0.0.0/0', 8000, 8100)], 'authorize', policy));
    expect(finding!.summary).toBe('admin port (8022/tcp) opened to 0.0.0.0/0 on sg-0abc by alice');
  });

  it('reads ModifySecurityGroupRules (the new form of the rule) but not revokes or description changes', () => {
    expect(findingsOf(evaluate([{ ...ingress('0.0.0.0/0', 22), ruleId: 'sgr-9' }], 'modify'))).toHaveLength(1);
    expect(findingsOf(evaluate([ingress('0.0.0.0/0', 22)], 'revoke'))).toEqual([]);
    expect(findingsOf(evaluate([ingress('0.0.0.0/0', 22)], 'describe'))).toEqual([]);
  });

  it('flags the pipeline too: the actor does not matter', () => {
    const event = eventOf(sgChange([ingress('0.0.0.0/0', 22)]), { actor: actors.pipeline });
    const input = inputOf(event);
    expect(input.trust.trusted).toBe(true);
    expect(findingsOf(adminPortOpenToWorld.evaluate(input))).toHaveLength(1);
  });

  describe('from a Config item of a security group', () => {
    const configEvent = (extra: { rules?: SgRule[]; addedRules?: SgRule[]; changeType?: string; oversized?: boolean }) =>
      eventOf(
        {
          kind: 'config-item',
          resourceType: 'AWS::EC2::SecurityGroup',
          resourceId: 'sg-0cfg',
          changeType: extra.changeType ?? 'UPDATE',
          status: 'OK',
          oversized: extra.oversized ?? false,
          rules: extra.rules,
          addedRules: extra.addedRules,
        },
        { origin: 'config', eventSource: 'config.amazonaws.com', eventName: 'ConfigurationItemChange', actor: actors.configService },
      );

    it('judges only the added rules when the diff names them', () => {
      const old = ingress('0.0.0.0/0', 3389);
      const added = ingress('::/0', 22);
      const [finding] = findingsOf(adminPortOpenToWorld.evaluate(inputOf(configEvent({ rules: [old, added], addedRules: [added] }))));
      expect(finding!.offendingRules).toEqual([{ groupId: 'sg-0cfg', rules: [added] }]);
      expect(finding!.summary).toBe('SSH (22/tcp) opened to ::/0 on sg-0cfg (seen by AWS Config)');
    });

    it('judges every current rule when the diff says nothing', () => {
      const rules = [ingress('0.0.0.0/0', 22), ingress('10.0.0.0/8', 3389), { ...ingress('0.0.0.0/0', 22), direction: 'egress' as const }];
      const [finding] = findingsOf(adminPortOpenToWorld.evaluate(inputOf(configEvent({ rules }))));
      expect(finding!.offendingRules).toEqual([{ groupId: 'sg-0cfg', rules: [ingress('0.0.0.0/0', 22)] }]);
    });

    it('finds nothing when the diff added no offending rule, or the group was deleted', () => {
      expect(findingsOf(adminPortOpenToWorld.evaluate(inputOf(configEvent({ rules: [ingress('0.0.0.0/0', 22)], addedRules: [] }))))).toEqual([]);
      expect(findingsOf(adminPortOpenToWorld.evaluate(inputOf(configEvent({ rules: [ingress('0.0.0.0/0', 22)], changeType: 'DELETE' }))))).toEqual([]);
    });

    it('finds nothing in an oversized item, which carries no rules (the CloudTrail call behind it is judged on its own)', () => {
      expect(adminPortOpenToWorld.evaluate(inputOf(configEvent({ oversized: true })))).toEqual({ findings: [] });
    });
  });

  it('flags a rule exactly when it is whole-internet ingress covering an admin port (property)', () => {
    const cidr4 = fc.oneof(
      fc.tuple(fc.ipV4(), fc.integer({ min: 0, max: 32 })).map(([a, p]) => `${a}/${p}`),
      fc.constantFrom('0.0.0.0/0', '203.0.113.7/0', ' 0.0.0.0/0', 'not-a-cidr', '1.2.3.4/99'),
    );
    const cidr6 = fc.oneof(
      fc.tuple(fc.ipV6(), fc.integer({ min: 0, max: 128 })).map(([a, p]) => `${a}/${p}`),
      fc.constantFrom('::/0', '2001:db8::/0', '::/1', ':::/0'),
    );
    const port = fc.oneof(fc.constant(-1), fc.integer({ min: 0, max: 65535 }), fc.constantFrom(22, 3389, 21, 23, 3388, 3390));
    const ruleArb: fc.Arbitrary<SgRule> = fc.record(
      {
        direction: fc.constantFrom('ingress' as const, 'egress' as const),
        protocol: fc.constantFrom('tcp', 'udp', 'icmp', 'icmpv6', '-1', 'all', '6', '17', '1', 'TCP', '50'),
        fromPort: port,
        toPort: port,
        cidrIpv4: cidr4,
        cidrIpv6: cidr6,
        prefixListId: fc.constant('pl-0abc'),
      },
      { requiredKeys: ['direction', 'protocol'] },
    );
    const adminPorts = fc.uniqueArray(fc.oneof(fc.constantFrom(22, 3389), fc.integer({ min: 0, max: 65535 })), { minLength: 1, maxLength: 4 });
    fc.assert(
      fc.property(ruleArb, adminPorts, (rule, ports) => {
        const policy = policyOf({ adminPorts: ports });
        const findings = findingsOf(evaluate([rule], 'authorize', policy));
        const expected = rule.direction === 'ingress' && isWholeInternet(rule) && ports.some((p) => coversPort(rule, p));
        expect(findings.length).toBe(expected ? 1 : 0);
        if (expected) expect(findings[0]!.offendingRules).toEqual([{ groupId: 'sg-0abc', rules: [rule] }]);
      }),
      { numRuns: 1000 },
    );
  });
});
