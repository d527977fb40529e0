import { normalize } from '../../../functions/core/normalize';
import { normalizeProtocol } from '../../../functions/core/normalize/permissions';
import type { SecurityGroupChange } from '../../../functions/core/model';
import { accepted, record, viaEventBridge } from './fixtures';

const sgChange = (input: unknown): SecurityGroupChange => {
  const change = accepted(normalize(input)).change;
  if (change.kind !== 'security-group') throw new Error(`expected a security-group change, got ${change.kind}`);
  return change;
};

const permission = (extra: Record<string, unknown>) => ({ groups: {}, ipRanges: {}, ipv6Ranges: {}, prefixListIds: {}, ...extra });

describe('security-group changes from CloudTrail', () => {
  it('reads the usual ipPermissions.items shape, one rule per source', () => {
    const change = sgChange(
      viaEventBridge(
        record('ec2.amazonaws.com', 'AuthorizeSecurityGroupIngress', {
          groupId: 'sg-0a1b2c3d4e5f60003',
          ipPermissions: {
            items: [
              permission({
                ipProtocol: 'tcp',
                fromPort: 22,
                toPort: 22,
                ipRanges: { items: [{ cidrIp: '0.0.0.0/0', description: 'anyone' }, { cidrIp: '203.0.113.7/0' }, { cidrIp: '10.0.0.0/8' }] },
                ipv6Ranges: { items: [{ cidrIpv6: '::/0' }] },
                groups: { items: [{ groupId: 'sg-0a1b2c3d4e5f60009', userId: '111122223333' }] },
                prefixListIds: { items: [{ prefixListId: 'pl-0a1b2c3d4e5f60001' }] },
              }),
            ],
          },
        }),
      ),
    );
    expect(change).toMatchObject({ groupId: 'sg-0a1b2c3d4e5f60003', operation: 'authorize' });
    expect(change.rules).toEqual([
      { direction: 'ingress', protocol: 'tcp', fromPort: 22, toPort: 22, cidrIpv4: '0.0.0.0/0', description: 'anyone' },
      { direction: 'ingress', protocol: 'tcp', fromPort: 22, toPort: 22, cidrIpv4: '203.0.113.7/0' },
      { direction: 'ingress', protocol: 'tcp', fromPort: 22, toPort: 22, cidrIpv4: '10.0.0.0/8' },
      { direction: 'ingress', protocol: 'tcp', fromPort: 22, toPort: 22, cidrIpv6: '::/0' },
      { direction: 'ingress', protocol: 'tcp', fromPort: 22, toPort: 22, prefixListId: 'pl-0a1b2c3d4e5f60001' },
      { direction: 'ingress', protocol: 'tcp', fromPort: 22, toPort: 22, referencedGroupId: 'sg-0a1b2c3d4e5f60009' },
    ]);
  });

  it('keeps a whole-internet CIDR written oddly (203.0.113.7/0, ::/0) exactly as given: judging it is the rules\' job', () => {
    const change = sgChange(
      record('ec2.amazonaws.com', 'AuthorizeSecurityGroupIngress', {
        groupId: 'sg-0a1b2c3d4e5f60003',
        ipPermissions: { items: [permission({ ipProtocol: 'tcp', fromPort: 3389, toPort: 3389, ipRanges: { items: [{ cidrIp: '203.0.113.7/0' }] }, ipv6Ranges: { items: [{ cidrIpv6: '::/0' }] } })] },
      }),
    );
    expect(change.rules.map((r) => r.cidrIpv4 ?? r.cidrIpv6)).toEqual(['203.0.113.7/0', '::/0']);
  });

  it('reads the CLI shorthand, flat in requestParameters next to an empty ipPermissions', () => {
    const change = sgChange(
      record('ec2.amazonaws.com', 'AuthorizeSecurityGroupIngress', {
        groupId: 'sg-0a1b2c3d4e5f60003',
        ipPermissions: {},
        ipProtocol: 'tcp',
        fromPort: 22,
        toPort: 22,
        cidrIp: '0.0.0.0/0',
      }),
    );
    expect(change.rules).toEqual([{ direction: 'ingress', protocol: 'tcp', fromPort: 22, toPort: 22, cidrIpv4: '0.0.0.0/0' }]);
  });

  it('sets ruleId from the response securityGroupRuleSet on the rule with the same direction, protocol, ports and source', () => {
    const change = sgChange(
      record(
        'ec2.amazonaws.com',
        'AuthorizeSecurityGroupEgress',
        {
          groupId: 'sg-0a1b2c3d4e5f60003',
          ipPermissions: { items: [permission({ ipProtocol: '6', fromPort: 443, toPort: 443, ipRanges: { items: [{ cidrIp: '10.0.0.0/8' }, { cidrIp: '0.0.0.0/0' }] } })] },
        },
        {
          responseElements: {
            requestId: 'r',
            _return: true,
            securityGroupRuleSet: {
              items: [
                { groupId: 'sg-0a1b2c3d4e5f60003', securityGroupRuleId: 'sgr-00000000000000002', isEgress: true, ipProtocol: 'tcp', fromPort: 443, toPort: 443, cidrIpv4: '0.0.0.0/0' },
                { groupId: 'sg-0a1b2c3d4e5f60003', securityGroupRuleId: 'sgr-00000000000000001', isEgress: true, ipProtocol: 'tcp', fromPort: 443, toPort: 443, cidrIpv4: '10.0.0.0/8' },
              ],
            },
          },
        },
      ),
    );
    expect(change.rules).toEqual([
      { direction: 'egress', protocol: 'tcp', fromPort: 443, toPort: 443, cidrIpv4: '10.0.0.0/8', ruleId: 'sgr-00000000000000001' },
      { direction: 'egress', protocol: 'tcp', fromPort: 443, toPort: 443, cidrIpv4: '0.0.0.0/0', ruleId: 'sgr-00000000000000002' },
    ]);
  });

  it('matches a referenced group in the response through referencedGroupInfo', () => {
    const change = sgChange(
      record(
        'ec2.amazonaws.com',
        'AuthorizeSecurityGroupIngress',
        { groupId: 'sg-0a1b2c3d4e5f60001', ipPermissions: { items: [permission({ ipProtocol: 'tcp', fromPort: 5432, toPort: 5432, groups: { items: [{ groupId: 'sg-0a1b2c3d4e5f60002' }] } })] } },
        {
          responseElements: {
            securityGroupRuleSet: {
              items: [{ securityGroupRuleId: 'sgr-0000000000000000a', isEgress: false, ipProtocol: 'tcp', fromPort: 5432, toPort: 5432, referencedGroupInfo: { groupId: 'sg-0a1b2c3d4e5f60002', userId: '111122223333' } }],
            },
          },
        },
      ),
    );
    expect(change.rules).toEqual([{ direction: 'ingress', protocol: 'tcp', fromPort: 5432, toPort: 5432, referencedGroupId: 'sg-0a1b2c3d4e5f60002', ruleId: 'sgr-0000000000000000a' }]);
  });

  it('leaves ports off "all protocols" rules and spells all as -1', () => {
    const change = sgChange(
      record('ec2.amazonaws.com', 'AuthorizeSecurityGroupIngress', {
        groupId: 'sg-0a1b2c3d4e5f60003',
        ipPermissions: { items: [permission({ ipProtocol: 'all', fromPort: -1, toPort: -1, ipRanges: { items: [{ cidrIp: '0.0.0.0/0' }] } })] },
      }),
    );
    expect(change.rules).toEqual([{ direction: 'ingress', protocol: '-1', cidrIpv4: '0.0.0.0/0' }]);
  });

  it.each([
    ['TCP', 'tcp'],
    ['6', 'tcp'],
    [6, 'tcp'],
    ['17', 'udp'],
    ['1', 'icmp'],
    ['58', 'icmpv6'],
    ['all', '-1'],
    ['-1', '-1'],
    [-1, '-1'],
    ['47', '47'],
  ])('normalizes protocol %p to %p', (input, expected) => {
    expect(normalizeProtocol(input)).toBe(expected);
  });

  it.each([
    ['RevokeSecurityGroupIngress', 'revoke', 'ingress'],
    ['RevokeSecurityGroupEgress', 'revoke', 'egress'],
    ['UpdateSecurityGroupRuleDescriptionsIngress', 'describe', 'ingress'],
    ['UpdateSecurityGroupRuleDescriptionsEgress', 'describe', 'egress'],
  ] as const)('reads %s as operation %s on %s rules', (eventName, operation, direction) => {
    const change = sgChange(
      record('ec2.amazonaws.com', eventName, {
        groupId: 'sg-0a1b2c3d4e5f60003',
        ipPermissions: { items: [permission({ ipProtocol: 'tcp', fromPort: 22, toPort: 22, ipRanges: { items: [{ cidrIp: '198.51.100.0/24', description: 'office' }] } })] },
      }),
    );
    expect(change.operation).toBe(operation);
    expect(change.rules).toEqual([{ direction, protocol: 'tcp', fromPort: 22, toPort: 22, cidrIpv4: '198.51.100.0/24', description: 'office' }]);
  });

  it('keeps a group named only by groupName as its id, and says so', () => {
    const change = sgChange(
      record('ec2.amazonaws.com', 'AuthorizeSecurityGroupIngress', { groupName: 'default', ipPermissions: { items: [permission({ ipProtocol: 'tcp', fromPort: 80, toPort: 80, ipRanges: { items: [{ cidrIp: '0.0.0.0/0' }] } })] } }),
    );
    expect(change.groupId).toBe('default');
    expect(change.groupIdIsName).toBe(true);
  });

  it('rejects a security-group call that names no group at all', () => {
    const result = normalize(record('ec2.amazonaws.com', 'AuthorizeSecurityGroupIngress', { ipPermissions: {} }));
    expect(result).toMatchObject({ rejected: true, code: 'missing-field' });
  });
});

describe('ModifySecurityGroupRules', () => {
  it('reads the wrapped request with tag fields as operation modify, with the rule id, as ingress', () => {
    const change = sgChange(
      record('ec2.amazonaws.com', 'ModifySecurityGroupRules', {
        ModifySecurityGroupRulesRequest: {
          GroupId: 'sg-0a1b2c3d4e5f60001',
          SecurityGroupRule: {
            tag: 1,
            SecurityGroupRuleId: 'sgr-0a1b2c3d4e5f00010',
            SecurityGroupRule: { tag: 1, IpProtocol: 'tcp', FromPort: 3389, ToPort: 3389, CidrIpv4: '0.0.0.0/0', Description: 'rdp' },
          },
        },
      }),
    );
    expect(change).toEqual({
      kind: 'security-group',
      groupId: 'sg-0a1b2c3d4e5f60001',
      operation: 'modify',
      rules: [{ ruleId: 'sgr-0a1b2c3d4e5f00010', direction: 'ingress', protocol: 'tcp', fromPort: 3389, toPort: 3389, cidrIpv4: '0.0.0.0/0', description: 'rdp' }],
    });
  });

  it('reads a list of rules, the SecurityGroupRuleRequest spelling and any casing', () => {
    const change = sgChange(
      record('ec2.amazonaws.com', 'ModifySecurityGroupRules', {
        ModifySecurityGroupRulesRequest: {
          groupId: 'sg-0a1b2c3d4e5f60001',
          SecurityGroupRule: [
            { SecurityGroupRuleId: 'sgr-00000000000000001', SecurityGroupRuleRequest: { IpProtocol: '17', FromPort: 53, ToPort: 53, CidrIpv6: '::/0' } },
            { securityGroupRuleId: 'sgr-00000000000000002', securityGroupRule: { ipProtocol: 'tcp', fromPort: 22, toPort: 22, referencedGroupId: 'sg-0a1b2c3d4e5f60002' } },
            { SecurityGroupRuleId: 'sgr-00000000000000003', SecurityGroupRule: { IpProtocol: 'tcp', FromPort: 443, ToPort: 443, PrefixListId: 'pl-0a1b2c3d4e5f60001' } },
          ],
        },
      }),
    );
    expect(change.groupId).toBe('sg-0a1b2c3d4e5f60001');
    expect(change.rules).toEqual([
      { ruleId: 'sgr-00000000000000001', direction: 'ingress', protocol: 'udp', fromPort: 53, toPort: 53, cidrIpv6: '::/0' },
      { ruleId: 'sgr-00000000000000002', direction: 'ingress', protocol: 'tcp', fromPort: 22, toPort: 22, referencedGroupId: 'sg-0a1b2c3d4e5f60002' },
      { ruleId: 'sgr-00000000000000003', direction: 'ingress', protocol: 'tcp', fromPort: 443, toPort: 443, prefixListId: 'pl-0a1b2c3d4e5f60001' },
    ]);
  });

  it('rejects a ModifySecurityGroupRules record without a GroupId', () => {
    expect(normalize(record('ec2.amazonaws.com', 'ModifySecurityGroupRules', { ModifySecurityGroupRulesRequest: { SecurityGroupRule: {} } }))).toMatchObject({
      rejected: true,
      code: 'missing-field',
    });
  });
});
