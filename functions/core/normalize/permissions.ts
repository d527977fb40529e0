/**
 * Security-group permissions, in every shape CloudTrail and Config write them, → SgRule[].
 *
 * AWS's own model is "one source per rule": a permission that lists three CIDRs and a
 * referenced group is four rules, each with its own `sgr-…` id. driftwarden keeps that
 * model, so that containment can revoke exactly the offending rule and nothing else.
 */
import type { SgRule } from '../model';
import { field, isRecord, items, num, rec, str } from './guards';

type Direction = SgRule['direction'];

const PROTOCOL_NUMBERS: Record<string, string> = { '6': 'tcp', '17': 'udp', '1': 'icmp', '58': 'icmpv6' };

/**
 * Lower-case protocol as AWS spells it: `tcp`, `udp`, `icmp`, `icmpv6`, `-1` for all
 * (`all` and `-1` alike), the name for the protocol numbers 6, 17, 1 and 58, or the number.
 */
export function normalizeProtocol(value: unknown): string | undefined {
  let text: string | undefined;
  if (typeof value === 'number' && Number.isFinite(value)) text = String(value);
  else if (typeof value === 'string' && value.trim().length > 0) text = value.trim().toLowerCase();
  if (text === undefined) return undefined;
  if (text === 'all' || text === '-1') return '-1';
  return PROTOCOL_NUMBERS[text] ?? text;
}

/** Builds one rule, leaving out ports for "all protocols" (AWS ignores them there). */
function makeRule(direction: Direction, protocolValue: unknown, fromPort: number | undefined, toPort: number | undefined, source: Partial<SgRule>): SgRule {
  // A permission that names no protocol is read as "all": the broadest reading, so that a
  // malformed record can never hide an exposure.
  const protocol = normalizeProtocol(protocolValue) ?? '-1';
  const rule: SgRule = { direction, protocol };
  if (protocol !== '-1') {
    if (fromPort !== undefined) rule.fromPort = fromPort;
    if (toPort !== undefined) rule.toPort = toPort;
  }
  for (const [k, v] of Object.entries(source)) {
    if (v !== undefined) (rule as unknown as Record<string, unknown>)[k] = v;
  }
  return rule;
}

/**
 * The rules of one permission, CloudTrail's shape (`ipRanges.items[].cidrIp`,
 * `ipv6Ranges.items[].cidrIpv6`, `groups.items[].groupId`, `prefixListIds.items[].prefixListId`)
 * or Config's (`ipv4Ranges[].cidrIp`, `ipRanges: ["0.0.0.0/0"]`, `ipv6Ranges[].cidrIpv6`,
 * `prefixListIds[].prefixListId`, `userIdGroupPairs[].groupId`). One rule per source.
 */
export function rulesFromPermission(permission: unknown, direction: Direction): SgRule[] {
  if (!isRecord(permission)) return [];
  const protocol = field(permission, 'ipProtocol', 'IpProtocol');
  const fromPort = num(permission, 'fromPort', 'FromPort');
  const toPort = num(permission, 'toPort', 'ToPort');
  const rules: SgRule[] = [];
  const seen = new Set<string>();
  const add = (source: Partial<SgRule>) => {
    const rule = makeRule(direction, protocol, fromPort, toPort, source);
    const key = ruleKey(rule);
    if (!seen.has(key)) {
      seen.add(key);
      rules.push(rule);
    }
  };

  // Config writes both `ipv4Ranges: [{cidrIp}]` and the legacy `ipRanges: ["cidr"]`; CloudTrail
  // writes `ipRanges: {items: [{cidrIp}]}`. Duplicates fold into one rule.
  for (const range of [...items(field(permission, 'ipv4Ranges', 'Ipv4Ranges')), ...items(field(permission, 'ipRanges', 'IpRanges'))]) {
    const cidr = isRecord(range) ? str(range, 'cidrIp', 'CidrIp', 'cidrIpv4') : str(range);
    if (cidr !== undefined) add({ cidrIpv4: cidr, description: isRecord(range) ? str(range, 'description', 'Description') : undefined });
  }
  for (const range of items(field(permission, 'ipv6Ranges', 'Ipv6Ranges'))) {
    const cidr = isRecord(range) ? str(range, 'cidrIpv6', 'CidrIpv6') : str(range);
    if (cidr !== undefined) add({ cidrIpv6: cidr, description: isRecord(range) ? str(range, 'description', 'Description') : undefined });
  }
  for (const prefixList of items(field(permission, 'prefixListIds', 'PrefixListIds'))) {
    const id = isRecord(prefixList) ? str(prefixList, 'prefixListId', 'PrefixListId') : str(prefixList);
    if (id !== undefined) add({ prefixListId: id, description: isRecord(prefixList) ? str(prefixList, 'description', 'Description') : undefined });
  }
  for (const pair of [...items(field(permission, 'groups', 'Groups')), ...items(field(permission, 'userIdGroupPairs', 'UserIdGroupPairs'))]) {
    // A pair that names only a group name (default VPC, older callers) keeps the name as its id.
    const id = isRecord(pair) ? (str(pair, 'groupId', 'GroupId') ?? str(pair, 'groupName', 'GroupName')) : str(pair);
    if (id !== undefined) add({ referencedGroupId: id, description: isRecord(pair) ? str(pair, 'description', 'Description') : undefined });
  }
  // A permission with no source at all is still a change; keep it, sourceless, so it is seen.
  if (rules.length === 0) add({});
  return rules;
}

/**
 * The rules a CloudTrail Authorize/Revoke/UpdateDescriptions request names: the usual
 * `ipPermissions.items[]`, and the CLI shorthand (`--protocol --port --cidr`), which CloudTrail
 * records flat in requestParameters (`ipProtocol`, `fromPort`, `toPort`, `cidrIp`) next to
 * an empty `ipPermissions: {}`.
 */
export function rulesFromRequest(requestParameters: unknown, direction: Direction): SgRule[] {
  const rules: SgRule[] = [];
  for (const permission of items(field(requestParameters, 'ipPermissions', 'IpPermissions'))) {
    rules.push(...rulesFromPermission(permission, direction));
  }
  const p = isRecord(requestParameters) ? requestParameters : undefined;
  if (p !== undefined) {
    const cidrIp = str(p, 'cidrIp', 'CidrIp');
    const cidrIpv6 = str(p, 'cidrIpv6', 'CidrIpv6');
    const sourceGroup = str(p, 'sourceSecurityGroupId', 'sourceSecurityGroupName');
    const flatProtocol = field(p, 'ipProtocol', 'IpProtocol');
    if (cidrIp !== undefined || cidrIpv6 !== undefined || sourceGroup !== undefined || flatProtocol !== undefined) {
      const from = num(p, 'fromPort', 'FromPort');
      const to = num(p, 'toPort', 'ToPort');
      if (cidrIp !== undefined) rules.push(makeRule(direction, flatProtocol, from, to, { cidrIpv4: cidrIp }));
      if (cidrIpv6 !== undefined) rules.push(makeRule(direction, flatProtocol, from, to, { cidrIpv6 }));
      if (sourceGroup !== undefined) rules.push(makeRule(direction, flatProtocol, from, to, { referencedGroupId: sourceGroup }));
      if (cidrIp === undefined && cidrIpv6 === undefined && sourceGroup === undefined) rules.push(makeRule(direction, flatProtocol, from, to, {}));
    }
  }
  return rules;
}

/** One rule from a response `securityGroupRuleSet` item (or a ModifySecurityGroupRules rule). */
export function ruleFromRuleItem(item: unknown, fallbackDirection: Direction): SgRule | undefined {
  if (!isRecord(item)) return undefined;
  const isEgress = field(item, 'isEgress', 'IsEgress');
  const direction: Direction = isEgress === true || isEgress === 'true' ? 'egress' : isEgress === false || isEgress === 'false' ? 'ingress' : fallbackDirection;
  const referenced = rec(item, 'referencedGroupInfo', 'ReferencedGroupInfo');
  const rule = makeRule(direction, field(item, 'ipProtocol', 'IpProtocol'), num(item, 'fromPort', 'FromPort'), num(item, 'toPort', 'ToPort'), {
    cidrIpv4: str(item, 'cidrIpv4', 'CidrIpv4'),
    cidrIpv6: str(item, 'cidrIpv6', 'CidrIpv6'),
    prefixListId: str(item, 'prefixListId', 'PrefixListId'),
    referencedGroupId: str(referenced, 'groupId', 'GroupId') ?? str(item, 'referencedGroupId', 'ReferencedGroupId'),
    description: str(item, 'description', 'Description'),
  });
  const ruleId = str(item, 'securityGroupRuleId', 'SecurityGroupRuleId');
  return ruleId !== undefined ? { ruleId, ...rule } : rule;
}

/** A stable text key for a rule's direction, protocol, ports and source (not its id or description). */
export function ruleKey(rule: SgRule): string {
  return [
    rule.direction,
    rule.protocol,
    rule.fromPort ?? '',
    rule.toPort ?? '',
    rule.cidrIpv4 ?? '',
    rule.cidrIpv6 ?? '',
    rule.prefixListId ?? '',
    rule.referencedGroupId ?? '',
  ].join('|');
}

/**
 * Sets `ruleId` on each request rule from the response's `securityGroupRuleSet` (or
 * `revokedSecurityGroupRuleSet`), matching on direction, protocol, ports and source.
 * When the request named no rules (a revoke by rule id), the response's rules are the rules.
 */
export function withRuleIds(rules: SgRule[], responseElements: unknown, direction: Direction): SgRule[] {
  const responseRules: SgRule[] = [];
  for (const setName of ['securityGroupRuleSet', 'revokedSecurityGroupRuleSet']) {
    for (const item of items(field(responseElements, setName))) {
      const rule = ruleFromRuleItem(item, direction);
      if (rule !== undefined) responseRules.push(rule);
    }
  }
  if (rules.length === 0) return responseRules;
  const out = rules.map((r) => ({ ...r }));
  for (const responseRule of responseRules) {
    if (responseRule.ruleId === undefined) continue;
    const key = ruleKey(responseRule);
    const match = out.find((r) => r.ruleId === undefined && ruleKey(r) === key);
    if (match !== undefined) match.ruleId = responseRule.ruleId;
  }
  return out;
}

/**
 * ModifySecurityGroupRules, as CloudTrail records it:
 * `requestParameters.ModifySecurityGroupRulesRequest.{GroupId, SecurityGroupRule: {tag?,
 * SecurityGroupRuleId, SecurityGroupRule: {IpProtocol, FromPort, ToPort, CidrIpv4, …}}}`, where
 * `SecurityGroupRule` is one object or a list, and the inner rule may be spelled
 * `SecurityGroupRuleRequest`. Field names are matched without regard to case.
 *
 * The request does not say whether a rule is ingress or egress (the rule id does, in the
 * account). It is read as ingress: the direction in which an exposure matters, so that
 * a modified rule is never under-reported. Whoever has context may correct it.
 */
export function modifyRequest(requestParameters: unknown): { groupId?: string; rules: SgRule[] } {
  const request = rec(requestParameters, 'ModifySecurityGroupRulesRequest') ?? (isRecord(requestParameters) ? requestParameters : undefined);
  const groupId = str(request, 'GroupId');
  const rules: SgRule[] = [];
  const entries = items(field(request, 'SecurityGroupRule', 'SecurityGroupRules'));
  for (const entry of entries) {
    if (!isRecord(entry)) continue;
    const inner = rec(entry, 'SecurityGroupRule', 'SecurityGroupRuleRequest') ?? entry;
    const rule = ruleFromRuleItem(inner, 'ingress');
    if (rule === undefined) continue;
    const ruleId = str(entry, 'SecurityGroupRuleId') ?? rule.ruleId;
    rules.push(ruleId !== undefined ? { ...rule, ruleId } : rule);
  }
  return { ...(groupId !== undefined ? { groupId } : {}), rules };
}
