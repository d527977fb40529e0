/**
 * Violation keys: names for the VIOLATION, independent of how driftwarden saw it.
 *
 * One change can reach driftwarden several times and by several roads: EventBridge delivers
 * CloudTrail at least once, AWS Config reports the same security-group rule as a
 * configuration-item change, and the sweeper finds whatever the live path missed. The
 * idempotency key (the event id) stops the SAME delivery from acting twice; the violation key
 * stops DIFFERENT deliveries of the same violation from acting twice. So a key is built only
 * from what the violation is (the group and the rule, the instance, the key pair), never from
 * the event id, the origin, the actor or the time, except where the violation IS the event
 * (tamper).
 *
 * Pure: a `Plan` in, sorted unique keys out.
 */
import { isIPv4, isIPv6 } from 'node:net';
import type { Plan } from './decision';
import type { Finding, RuleId, SgRule } from './model';

/** Rules whose findings name an instance that is contained in place (isolated), once per instance. */
const INSTANCE_CONTAINMENT_RULES: ReadonlySet<RuleId> = new Set<RuleId>(['instance-manual-change', 'shell-access']);

/**
 * The keys that identify the violations a plan is about.
 *
 * - Security-group findings (`admin-port-open-to-world`, `security-group-manual-change`):
 *   `sg-rule:<groupId>:<direction>:<protocol>:<from>-<to>:<source>` per offending rule. This
 *   is exactly what EC2 itself uses to tell two rules apart, so the CloudTrail call that added
 *   the rule, the Config item that shows it and the sweeper that finds it all agree, whatever
 *   spelling each used (`TCP` or `6`, `0.0.0.0/0` or ` 0.0.0.0/0`, `203.0.113.7/0`).
 *   The rule id (`sgr-…`) is left out on purpose: CloudTrail's request has none.
 * - Instance findings (`instance-manual-change`, `shell-access`): `instance:<instanceId>:contain`.
 *   Isolation acts on the instance, not on the event: ten shell sessions or a modify and a
 *   stop are one containment, not ten.
 * - Launch-time findings (`unapproved-ami`, `ssh-key-material` at launch):
 *   `launch:<instanceId>:<rule>`. The instance was born that way; RunInstances and the Config
 *   item of the new instance describe the same birth, and a different rule on the same
 *   instance is a different violation with a different human fix.
 * - Key pairs (`ssh-key-material` not at launch): `key-pair:<name>`. The name is the key
 *   pair's identity within the account and region.
 * - Tamper (`driftwarden-tamper`): `tamper:<event id>`. Each attempt to blind driftwarden is
 *   its own violation and is reported every time; only a re-delivery of the same event matches.
 * - A finding none of the above can name (say, a security-group change without offending rules)
 *   is keyed on its own finding id, `finding:<rule>:<event id>`, so that it is at least never
 *   acted on twice for one event.
 */
export function violationKeys(plan: Plan): string[] {
  return violationKeysForFindings(plan.findings, plan.eventId);
}

/** The same keys from findings alone (the responder claims them before the plan is known). */
export function violationKeysForFindings(findings: readonly Finding[], eventId: string): string[] {
  const keys = new Set<string>();
  for (const finding of findings) {
    for (const key of keysForFinding(finding, eventId)) keys.add(key);
  }
  return [...keys].sort();
}

function keysForFinding(finding: Finding, eventId: string): string[] {
  if (finding.rule === 'driftwarden-tamper') return [`tamper:${eventId}`];

  const keys: string[] = [];
  if (finding.offendingRules && finding.offendingRules.length > 0) {
    for (const group of finding.offendingRules) {
      for (const rule of group.rules) keys.push(...securityGroupRuleKeys(group.groupId, rule));
    }
  } else if (finding.launchTime) {
    for (const instanceId of resourceIds(finding, 'instance')) keys.push(`launch:${instanceId}:${finding.rule}`);
  } else if (INSTANCE_CONTAINMENT_RULES.has(finding.rule)) {
    for (const instanceId of resourceIds(finding, 'instance')) keys.push(`instance:${instanceId}:contain`);
  } else if (finding.rule === 'ssh-key-material') {
    for (const keyName of resourceIds(finding, 'key-pair')) keys.push(`key-pair:${keyName}`);
  }
  return keys.length > 0 ? keys : [`finding:${finding.id}`];
}

function resourceIds(finding: Finding, type: 'instance' | 'key-pair'): string[] {
  return finding.resources.filter((resource) => resource.type === type && resource.id.trim() !== '').map((resource) => resource.id.trim());
}

/**
 * One key per source of the rule. AWS's model has one source per rule; if a caller ever hands
 * in a rule with two, each source is its own rule in EC2, so each gets its own key.
 */
export function securityGroupRuleKeys(groupId: string, rule: SgRule): string[] {
  const protocol = canonicalProtocolText(rule.protocol);
  const ports = protocol === '-1' ? 'all' : `${portText(rule.fromPort)}-${portText(rule.toPort)}`;
  const prefix = `sg-rule:${groupId.trim().toLowerCase()}:${rule.direction}:${protocol}:${ports}`;
  const sources = [
    rule.cidrIpv4 === undefined ? undefined : canonicalCidr(rule.cidrIpv4),
    rule.cidrIpv6 === undefined ? undefined : canonicalCidr(rule.cidrIpv6),
    rule.prefixListId?.trim().toLowerCase(),
    rule.referencedGroupId?.trim().toLowerCase(),
  ].filter((source): source is string => source !== undefined && source !== '');
  if (sources.length === 0) return [`${prefix}:none`];
  return sources.map((source) => `${prefix}:${source}`);
}

/** The protocol as EC2 answers it: lower case, names for 6/17/1/58, `-1` for all. */
function canonicalProtocolText(protocol: string | undefined): string {
  const text = (protocol ?? '').trim().toLowerCase();
  const byNumber: Record<string, string> = { '-1': '-1', all: '-1', '6': 'tcp', '17': 'udp', '1': 'icmp', '58': 'icmpv6' };
  return byNumber[text] ?? (text === '' ? '-1' : text);
}

/** A missing bound and EC2's `-1` mean the same thing ("any"). */
function portText(port: number | undefined): string {
  return typeof port === 'number' && Number.isInteger(port) && port >= 0 ? String(port) : '-1';
}

/**
 * The network a CIDR denotes, written one way: host bits cleared, IPv4 dotted without leading
 * zeros, IPv6 lower case and compressed (RFC 5952). `203.0.113.7/0` and `0.0.0.0/0` are the
 * same rule to EC2, so they are the same key here. Text that is not a CIDR is kept, trimmed and
 * lower-cased, so that two spellings of the same junk still meet.
 */
export function canonicalCidr(cidr: string): string {
  const text = cidr.trim().toLowerCase();
  const slash = text.indexOf('/');
  const address = slash < 0 ? text : text.slice(0, slash).trim();
  const prefixText = slash < 0 ? undefined : text.slice(slash + 1).trim();
  if (isIPv4(address)) {
    const length = prefixText === undefined ? 32 : Number(prefixText);
    if (!/^\d{1,2}$/.test(prefixText ?? '32') || length > 32) return text;
    return `${ipv4Network(address, length)}/${length}`;
  }
  if (isIPv6(address)) {
    const length = prefixText === undefined ? 128 : Number(prefixText);
    if (!/^\d{1,3}$/.test(prefixText ?? '128') || length > 128) return text;
    const groups = ipv6Groups(address);
    if (groups === undefined) return text;
    return `${compressIpv6(maskGroups(groups, length))}/${length}`;
  }
  return text;
}

function ipv4Network(address: string, length: number): string {
  const value = address.split('.').reduce((sum, octet) => sum * 256 + Number(octet), 0);
  // Bitwise operators work on signed 32-bit integers; plain arithmetic clears the host bits safely.
  const network = value - (value % 2 ** (32 - length));
  return [24, 16, 8, 0].map((shift) => Math.floor(network / 2 ** shift) % 256).join('.');
}

/** Eight 16-bit groups, expanding `::` and an embedded dotted IPv4 tail. */
function ipv6Groups(address: string): number[] | undefined {
  let text = address;
  const zone = text.indexOf('%');
  if (zone >= 0) text = text.slice(0, zone);
  const dotted = /(\d{1,3}(?:\.\d{1,3}){3})$/.exec(text);
  if (dotted) {
    const octets = dotted[1].split('.').map(Number);
    text = `${text.slice(0, dotted.index)}${((octets[0] << 8) | octets[1]).toString(16)}:${((octets[2] << 8) | octets[3]).toString(16)}`;
  }
  const halves = text.split('::');
  if (halves.length > 2) return undefined;
  const head = halves[0] === '' ? [] : halves[0].split(':');
  const tail = halves.length === 2 && halves[1] !== '' ? halves[1].split(':') : [];
  const missing = 8 - head.length - tail.length;
  if (halves.length === 1 ? missing !== 0 : missing < 1) return undefined;
  const all = [...head, ...(halves.length === 2 ? new Array<string>(missing).fill('0') : []), ...tail];
  const groups = all.map((group) => parseInt(group, 16));
  return groups.some((group) => Number.isNaN(group)) ? undefined : groups;
}

function maskGroups(groups: number[], length: number): number[] {
  return groups.map((group, index) => {
    const bitsKept = Math.min(16, Math.max(0, length - index * 16));
    return bitsKept === 0 ? 0 : group & (0xffff << (16 - bitsKept)) & 0xffff;
  });
}

/** RFC 5952: the longest run (of two or more) of zero groups becomes `::`, the first one on a tie. */
function compressIpv6(groups: number[]): string {
  let bestStart = -1;
  let bestLength = 0;
  for (let start = 0; start < groups.length; ) {
    if (groups[start] !== 0) {
      start += 1;
      continue;
    }
    let end = start;
    while (end < groups.length && groups[end] === 0) end += 1;
    if (end - start > bestLength) {
      bestStart = start;
      bestLength = end - start;
    }
    start = end;
  }
  const hex = groups.map((group) => group.toString(16));
  if (bestLength < 2) return hex.join(':');
  return `${hex.slice(0, bestStart).join(':')}::${hex.slice(bestStart + bestLength).join(':')}`;
}
