/**
 * Network facts about one security-group rule: does it open to the whole internet, and
 * does it reach a given port. Pure, and tolerant of the spellings AWS and its callers use
 * (`TCP`, `6`, `all`, ` 0.0.0.0/0 `).
 */
import { isIPv4, isIPv6 } from 'node:net';
import type { SgRule } from './model';

/** A transport protocol that carries ports. */
export type PortProtocol = 'tcp' | 'udp';

/** The protocol spelled as AWS spells it in its responses: lower case, names for 6/17/1/58, `-1` for all. */
export function canonicalProtocol(protocol: string | undefined): string {
  const p = (protocol ?? '').trim().toLowerCase();
  switch (p) {
    case 'all':
    case '-1':
      return '-1';
    case '6':
      return 'tcp';
    case '17':
      return 'udp';
    case '1':
      return 'icmp';
    case '58':
      return 'icmpv6';
    default:
      return p;
  }
}

/**
 * The prefix length of a CIDR, when the text is a well-formed CIDR of the given family;
 * undefined otherwise. `203.0.113.7/0` is well formed: AWS accepts host bits under a /0
 * and the rule then matches every address, which is exactly why it counts.
 */
function prefixLength(cidr: string | undefined, family: 4 | 6): number | undefined {
  if (typeof cidr !== 'string') return undefined;
  const text = cidr.trim().toLowerCase();
  const slash = text.indexOf('/');
  if (slash <= 0 || slash !== text.lastIndexOf('/')) return undefined;
  const address = text.slice(0, slash).trim();
  const prefix = text.slice(slash + 1).trim();
  if (!/^\d{1,3}$/.test(prefix)) return undefined;
  const length = Number(prefix);
  if (family === 4 ? !isIPv4(address) || length > 32 : !isIPv6(address) || length > 128) return undefined;
  return length;
}

/** True when the text is an IPv4 or IPv6 CIDR with prefix length 0 (malformed text is not). */
export function isWholeInternetCidr(cidr: string | undefined): boolean {
  return prefixLength(cidr, 4) === 0 || prefixLength(cidr, 6) === 0;
}

/**
 * True when the rule's source (or destination) is every address: an IPv4 or IPv6 CIDR with
 * prefix length 0, whatever the host bits (`0.0.0.0/0`, `203.0.113.7/0`, `::/0`, `2001:db8::/0`).
 * Prefix lists and referenced groups are never "the whole internet" here: their contents
 * are managed elsewhere and are not visible in the event.
 */
export function isWholeInternet(rule: SgRule): boolean {
  return isWholeInternetCidr(rule.cidrIpv4) || isWholeInternetCidr(rule.cidrIpv6);
}

/** The CIDR that makes the rule whole-internet, for summaries. */
export function wholeInternetSource(rule: SgRule): string | undefined {
  if (isWholeInternetCidr(rule.cidrIpv4)) return rule.cidrIpv4?.trim();
  if (isWholeInternetCidr(rule.cidrIpv6)) return rule.cidrIpv6?.trim();
  return undefined;
}

/** A port bound from a rule: -1 or absent means "no bound". */
function bound(value: number | undefined): number | undefined {
  return typeof value === 'number' && Number.isFinite(value) && value >= 0 ? value : undefined;
}

/**
 * True when the rule lets traffic reach `port`.
 *
 * - protocol `-1` / `all` covers every port of every protocol;
 * - `tcp` / `udp` (or 6 / 17) cover the ports from `fromPort` to `toPort` inclusive. A port
 *   of -1, or no ports at all, means every port (AWS's own spelling of "all ports" in
 *   some responses); a lone bound is read as a single port;
 * - ICMP, ICMPv6 and other protocols carry no ports and never cover one.
 *
 * Admin ports are counted on TCP and on UDP: RDP also listens on UDP 3389, and an SSH port
 * opened on UDP is as clear a sign of a mistake as on TCP. `protocols` narrows that.
 */
export function coversPort(rule: SgRule, port: number, protocols: readonly PortProtocol[] = ['tcp', 'udp']): boolean {
  const protocol = canonicalProtocol(rule.protocol);
  if (protocol === '-1') return true;
  if (protocol !== 'tcp' && protocol !== 'udp') return false;
  if (!protocols.includes(protocol)) return false;
  const from = bound(rule.fromPort);
  const to = bound(rule.toPort);
  if (from === undefined && to === undefined) return true;
  const low = from ?? to!;
  const high = to ?? from!;
  return low <= port && port <= high;
}

const WELL_KNOWN_PORTS: Record<number, string> = { 22: 'SSH', 3389: 'RDP', 23: 'Telnet', 5985: 'WinRM', 5986: 'WinRM', 5900: 'VNC' };

/** "SSH (22/tcp)", "RDP (3389/udp)", "admin port (8022, all protocols)": how a summary names an open admin port. */
export function describePort(rule: SgRule, port: number): string {
  const protocol = canonicalProtocol(rule.protocol);
  const name = WELL_KNOWN_PORTS[port] ?? 'admin port';
  return protocol === '-1' ? `${name} (${port}, all protocols)` : `${name} (${port}/${protocol})`;
}

/** "tcp 443 from 10.0.0.0/8", "all traffic to ::/0": one rule in a line, for summaries. */
export function describeRule(rule: SgRule): string {
  const protocol = canonicalProtocol(rule.protocol);
  const from = bound(rule.fromPort);
  const to = bound(rule.toPort);
  let what: string;
  if (protocol === '-1') what = 'all traffic';
  else if (protocol === 'tcp' || protocol === 'udp') {
    if (from === undefined && to === undefined) what = `${protocol} all ports`;
    else if ((from ?? to) === (to ?? from)) what = `${protocol} ${from ?? to}`;
    else what = `${protocol} ${from}-${to}`;
  } else what = protocol || 'unknown protocol';
  const peer = rule.cidrIpv4 ?? rule.cidrIpv6 ?? rule.prefixListId ?? rule.referencedGroupId ?? 'an unnamed source';
  return `${what} ${rule.direction === 'egress' ? 'to' : 'from'} ${peer.trim()}`;
}
