import type { Plan } from '../../functions/core/decision';
import type { Finding, SgRule } from '../../functions/core/model';
import { canonicalCidr, violationKeys } from '../../functions/core/violation-keys';

function planWith(eventId: string, findings: Finding[]): Plan {
  return {
    key: eventId,
    eventId,
    decision: 'contain',
    findings,
    notConfigured: [],
    steps: [],
    dryRun: false,
    humanActions: [],
    warnings: [],
    resources: findings.flatMap((finding) => finding.resources),
  };
}

function sgFinding(eventId: string, groupId: string, rules: SgRule[], rule: Finding['rule'] = 'admin-port-open-to-world'): Finding {
  return {
    id: `${rule}:${eventId}`,
    rule,
    severity: 'CRITICAL',
    summary: 'SSH opened to the world',
    resources: [{ type: 'security-group', id: groupId }],
    offendingRules: [{ groupId, rules }],
  };
}

describe('violationKeys', () => {
  it('gives the CloudTrail call and the Config item of the same security-group rule the same key', () => {
    const fromCloudTrail = planWith('11111111-aaaa-bbbb-cccc-000000000001', [
      sgFinding('11111111-aaaa-bbbb-cccc-000000000001', 'sg-0abc', [
        { direction: 'ingress', protocol: 'tcp', fromPort: 22, toPort: 22, cidrIpv4: '0.0.0.0/0' },
      ]),
    ]);
    const fromConfig = planWith('config:sg-0abc:1700000000000', [
      sgFinding('config:sg-0abc:1700000000000', 'sg-0abc', [
        { ruleId: 'sgr-0123', direction: 'ingress', protocol: '6', fromPort: 22, toPort: 22, cidrIpv4: ' 0.0.0.0/0 ' },
      ]),
    ]);

    expect(violationKeys(fromCloudTrail)).toEqual(['sg-rule:sg-0abc:ingress:tcp:22-22:0.0.0.0/0']);
    expect(violationKeys(fromConfig)).toEqual(violationKeys(fromCloudTrail));
  });

  it('gives one key per offending rule, so two rules opened in one call are two violations', () => {
    const plan = planWith('e1', [
      sgFinding('e1', 'sg-1', [
        { direction: 'ingress', protocol: 'tcp', fromPort: 22, toPort: 22, cidrIpv4: '0.0.0.0/0' },
        { direction: 'ingress', protocol: 'tcp', fromPort: 3389, toPort: 3389, cidrIpv6: '::/0' },
      ]),
    ]);

    expect(violationKeys(plan)).toEqual([
      'sg-rule:sg-1:ingress:tcp:22-22:0.0.0.0/0',
      'sg-rule:sg-1:ingress:tcp:3389-3389:::/0',
    ]);
  });

  it('keys an all-traffic rule without ports, however the protocol is spelled', () => {
    const spelledAll = planWith('e1', [sgFinding('e1', 'sg-1', [{ direction: 'ingress', protocol: 'all', cidrIpv4: '0.0.0.0/0' }])]);
    const spelledMinusOne = planWith('e2', [
      sgFinding('e2', 'sg-1', [{ direction: 'ingress', protocol: '-1', fromPort: -1, toPort: -1, cidrIpv4: '0.0.0.0/0' }]),
    ]);

    expect(violationKeys(spelledAll)).toEqual(['sg-rule:sg-1:ingress:-1:all:0.0.0.0/0']);
    expect(violationKeys(spelledMinusOne)).toEqual(violationKeys(spelledAll));
  });

  it('tells ingress from egress and one source from another', () => {
    const plan = planWith('e1', [
      sgFinding('e1', 'sg-1', [
        { direction: 'egress', protocol: 'tcp', fromPort: 22, toPort: 22, cidrIpv4: '0.0.0.0/0' },
        { direction: 'ingress', protocol: 'tcp', fromPort: 22, toPort: 22, prefixListId: 'pl-0AB' },
        { direction: 'ingress', protocol: 'tcp', fromPort: 22, toPort: 22, referencedGroupId: 'sg-other' },
      ]),
    ]);

    expect(violationKeys(plan)).toEqual([
      'sg-rule:sg-1:egress:tcp:22-22:0.0.0.0/0',
      'sg-rule:sg-1:ingress:tcp:22-22:pl-0ab',
      'sg-rule:sg-1:ingress:tcp:22-22:sg-other',
    ]);
  });

  it('gives one containment key per instance however many events and rules name it', () => {
    const instance = { type: 'instance' as const, id: 'i-0abc' };
    const shellTwice = planWith('e1', [
      { id: 'shell-access:e1', rule: 'shell-access', severity: 'HIGH', summary: 'SSM session', resources: [instance] },
      { id: 'instance-manual-change:e1', rule: 'instance-manual-change', severity: 'HIGH', summary: 'type changed', resources: [instance] },
    ]);
    const otherEvent = planWith('e2', [
      { id: 'instance-manual-change:e2', rule: 'instance-manual-change', severity: 'HIGH', summary: 'stopped', resources: [instance] },
    ]);

    expect(violationKeys(shellTwice)).toEqual(['instance:i-0abc:contain']);
    expect(violationKeys(otherEvent)).toEqual(['instance:i-0abc:contain']);
  });

  it('keys launch-time findings on the instance and the rule, and key pairs on their name', () => {
    const plan = planWith('e1', [
      {
        id: 'unapproved-ami:e1',
        rule: 'unapproved-ami',
        severity: 'HIGH',
        summary: 'unapproved AMI',
        resources: [
          { type: 'instance', id: 'i-1' },
          { type: 'instance', id: 'i-2' },
          { type: 'image', id: 'ami-1' },
        ],
        launchTime: true,
      },
      {
        id: 'ssh-key-material:e1',
        rule: 'ssh-key-material',
        severity: 'HIGH',
        summary: 'launched with a key',
        resources: [{ type: 'instance', id: 'i-1' }],
        launchTime: true,
      },
    ]);
    const keyPair = planWith('e2', [
      { id: 'ssh-key-material:e2', rule: 'ssh-key-material', severity: 'MEDIUM', summary: 'key pair created', resources: [{ type: 'key-pair', id: 'ops-key' }] },
    ]);

    expect(violationKeys(plan)).toEqual(['launch:i-1:ssh-key-material', 'launch:i-1:unapproved-ami', 'launch:i-2:unapproved-ami']);
    expect(violationKeys(keyPair)).toEqual(['key-pair:ops-key']);
  });

  it('keys each tamper event on itself: every attempt to blind driftwarden is reported', () => {
    const tamper = (eventId: string): Plan =>
      planWith(eventId, [
        { id: `driftwarden-tamper:${eventId}`, rule: 'driftwarden-tamper', severity: 'CRITICAL', summary: 'trail stopped', resources: [{ type: 'other', id: 'trail' }] },
      ]);

    expect(violationKeys(tamper('e1'))).toEqual(['tamper:e1']);
    expect(violationKeys(tamper('e2'))).toEqual(['tamper:e2']);
  });

  it('falls back to the finding id for a finding it cannot name, and gives no keys without findings', () => {
    const describeOnly = planWith('e1', [
      { id: 'security-group-manual-change:e1', rule: 'security-group-manual-change', severity: 'LOW', summary: 'description', resources: [{ type: 'security-group', id: 'sg-1' }] },
    ]);

    expect(violationKeys(describeOnly)).toEqual(['finding:security-group-manual-change:e1']);
    expect(violationKeys(planWith('e2', []))).toEqual([]);
  });
});

describe('canonicalCidr', () => {
  it.each([
    ['0.0.0.0/0', '0.0.0.0/0'],
    [' 203.0.113.7/0 ', '0.0.0.0/0'],
    ['10.1.2.3/8', '10.0.0.0/8'],
    ['192.168.1.77/32', '192.168.1.77/32'],
    ['192.168.1.77', '192.168.1.77/32'],
    ['::/0', '::/0'],
    ['2001:DB8::1/0', '::/0'],
    ['2001:0db8:0000:0000:0000:0000:0000:0001/64', '2001:db8::/64'],
    ['2001:db8:0:0:1:0:0:1/128', '2001:db8::1:0:0:1/128'],
    ['not-a-cidr', 'not-a-cidr'],
    ['10.0.0.0/33', '10.0.0.0/33'],
  ])('writes %j as %j', (input, expected) => {
    expect(canonicalCidr(input)).toBe(expected);
  });
});
