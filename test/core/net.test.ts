import type { SgRule } from '../../functions/core/model';
import { canonicalProtocol, coversPort, describePort, describeRule, isWholeInternet, isWholeInternetCidr } from '../../functions/core/net';

const v4 = (cidrIpv4: string): SgRule => ({ direction: 'ingress', protocol: 'tcp', fromPort: 22, toPort: 22, cidrIpv4 });
const v6 = (cidrIpv6: string): SgRule => ({ direction: 'ingress', protocol: 'tcp', fromPort: 22, toPort: 22, cidrIpv6 });
const ports = (protocol: string, fromPort?: number, toPort?: number): SgRule => ({ direction: 'ingress', protocol, fromPort, toPort, cidrIpv4: '0.0.0.0/0' });

describe('isWholeInternet', () => {
  it.each(['0.0.0.0/0', '203.0.113.7/0', ' 0.0.0.0/0 ', '10.1.2.3/00'])('counts the IPv4 range %p as the whole internet', (cidr) => {
    expect(isWholeInternet(v4(cidr))).toBe(true);
  });

  it.each(['::/0', '2001:db8::/0', '2001:DB8::1/0', ' ::/0'])('counts the IPv6 range %p as the whole internet', (cidr) => {
    expect(isWholeInternet(v6(cidr))).toBe(true);
  });

  it.each(['10.0.0.0/8', '0.0.0.0/1', '198.51.100.7/32', '0.0.0.0', '/0', '300.0.0.0/0', '0.0.0.0/33', 'banana/0', '0.0.0.0/0/0', ''])(
    'does not count %p',
    (cidr) => {
      expect(isWholeInternet(v4(cidr))).toBe(false);
    },
  );

  it.each(['::/1', '2001:db8::/32', 'zz::/0', '::/129'])('does not count the IPv6 range %p', (cidr) => {
    expect(isWholeInternet(v6(cidr))).toBe(false);
  });

  it('does not count prefix lists or referenced groups, whose contents the event does not show', () => {
    expect(isWholeInternet({ direction: 'ingress', protocol: 'tcp', fromPort: 22, toPort: 22, prefixListId: 'pl-0abc' })).toBe(false);
    expect(isWholeInternet({ direction: 'ingress', protocol: 'tcp', fromPort: 22, toPort: 22, referencedGroupId: 'sg-0def' })).toBe(false);
  });

  it('recognises an IPv6 /0 even when it arrives in the IPv4 field', () => {
    expect(isWholeInternetCidr('::/0')).toBe(true);
  });
});

describe('coversPort', () => {
  it('protocol -1 (and "all") covers every port', () => {
    expect(coversPort(ports('-1'), 22)).toBe(true);
    expect(coversPort(ports('ALL'), 3389)).toBe(true);
  });

  it('a tcp range covers a port inside it, inclusive at both ends', () => {
    expect(coversPort(ports('tcp', 0, 1024), 22)).toBe(true);
    expect(coversPort(ports('tcp', 22, 22), 22)).toBe(true);
    expect(coversPort(ports('tcp', 3389, 3390), 3389)).toBe(true);
  });

  it('a range 0-1024 does not cover 3389', () => {
    expect(coversPort(ports('tcp', 0, 1024), 3389)).toBe(false);
  });

  it('reads numeric and upper-case protocols', () => {
    expect(coversPort(ports('6', 22, 22), 22)).toBe(true);
    expect(coversPort(ports('17', 3389, 3389), 3389)).toBe(true);
    expect(coversPort(ports('TCP', 20, 25), 22)).toBe(true);
  });

  it('tcp with ports -1, or with no ports, means every port', () => {
    expect(coversPort(ports('tcp', -1, -1), 3389)).toBe(true);
    expect(coversPort(ports('tcp'), 22)).toBe(true);
  });

  it('counts UDP as well as TCP (RDP also listens on UDP 3389), unless narrowed to tcp', () => {
    expect(coversPort(ports('udp', 3389, 3389), 3389)).toBe(true);
    expect(coversPort(ports('udp', 3389, 3389), 3389, ['tcp'])).toBe(false);
  });

  it('ICMP never covers a TCP port, even with type/code -1', () => {
    expect(coversPort(ports('icmp', -1, -1), 22)).toBe(false);
    expect(coversPort(ports('icmpv6', 8, 0), 22)).toBe(false);
    expect(coversPort(ports('1', -1, -1), 22)).toBe(false);
  });

  it('ports outside the range are not covered', () => {
    expect(coversPort(ports('tcp', 23, 3388), 22)).toBe(false);
    expect(coversPort(ports('tcp', 23, 3388), 3389)).toBe(false);
  });
});

describe('naming', () => {
  it('canonicalises protocols as AWS spells them', () => {
    expect(['all', '6', '17', '1', '58', ' UDP '].map(canonicalProtocol)).toEqual(['-1', 'tcp', 'udp', 'icmp', 'icmpv6', 'udp']);
  });

  it('names the admin port with its protocol', () => {
    expect(describePort(ports('tcp', 22, 22), 22)).toBe('SSH (22/tcp)');
    expect(describePort(ports('udp', 3389, 3389), 3389)).toBe('RDP (3389/udp)');
    expect(describePort(ports('-1'), 22)).toBe('SSH (22, all protocols)');
    expect(describePort(ports('tcp', 8022, 8022), 8022)).toBe('admin port (8022/tcp)');
  });

  it('describes a rule in one line', () => {
    expect(describeRule({ direction: 'ingress', protocol: 'tcp', fromPort: 443, toPort: 443, cidrIpv4: '10.0.0.0/8' })).toBe('tcp 443 from 10.0.0.0/8');
    expect(describeRule({ direction: 'egress', protocol: '-1', cidrIpv6: '::/0' })).toBe('all traffic to ::/0');
    expect(describeRule({ direction: 'ingress', protocol: 'tcp', fromPort: 0, toPort: 1024, referencedGroupId: 'sg-1' })).toBe('tcp 0-1024 from sg-1');
  });
});
