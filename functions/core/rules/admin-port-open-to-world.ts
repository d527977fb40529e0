import type { ChangeEvent, Finding, SgRule } from '../model';
import { coversPort, describePort, isWholeInternet, wholeInternetSource } from '../net';
import { actorLabel, findingId, nothing } from './common';
import type { Rule, RuleInput, RuleResult } from './types';

/**
 * admin-port-open-to-world (HIGH): an ingress rule that opens an admin port (policy
 * `adminPorts`, default SSH 22 and RDP 3389, on TCP or UDP) to the whole internet (any
 * IPv4 or IPv6 /0).
 *
 * Why: an SSH or RDP port reachable from every address is the most common way into an
 * instance, and on immutable infrastructure nobody should need one. It is flagged
 * WHOEVER made it (the actor does not matter): a pipeline that deploys such a rule is as
 * wrong as a person who adds it by hand.
 *
 * Reads: SecurityGroupChange `authorize` and `modify` (the new form of each rule), and
 * Config items of `AWS::EC2::SecurityGroup` (the rules added by this change when the diff
 * says which, otherwise every current rule; an oversized item carries no rules and finds
 * nothing: the CloudTrail call behind it is judged on its own). Only the /0 ranges offend: a permission that
 * lists 10.0.0.0/8 and 0.0.0.0/0 offends with its 0.0.0.0/0 rule alone, so containment
 * revokes exactly that and never the whole group.
 */
export const adminPortOpenToWorld: Rule = {
  id: 'admin-port-open-to-world',
  severity: 'HIGH',
  description: 'An ingress rule opens an admin port (SSH, RDP) to the whole internet (any /0 range), whoever made it.',
  defaultMode: 'contain',
  actorMatters: false,
  evaluate(input: RuleInput): RuleResult {
    const { event, policy } = input;
    const change = event.change;
    if (change.kind === 'security-group') {
      if (change.operation !== 'authorize' && change.operation !== 'modify') return nothing();
      return judge(event, change.groupId, change.rules, policy.adminPorts);
    }
    if (change.kind === 'config-item' && change.resourceType === 'AWS::EC2::SecurityGroup') {
      if (change.changeType === 'DELETE') return nothing();
      // An oversized item carries only a summary (the full item is in S3), so there are no
      // rules to judge. It is not a reason to hold: the CloudTrail call behind the change is
      // judged on its own, and the sweeper catches what both miss.
      if (change.rules === undefined && change.addedRules === undefined) return nothing();
      return judge(event, change.resourceId, change.addedRules ?? change.rules ?? [], policy.adminPorts);
    }
    return nothing();
  },
};

/** The ingress rules that open one of `adminPorts` to the whole internet. */
export function offendingAdminRules(rules: readonly SgRule[], adminPorts: readonly number[]): SgRule[] {
  return rules.filter((r) => r.direction === 'ingress' && isWholeInternet(r) && adminPorts.some((p) => coversPort(r, p)));
}

function judge(event: ChangeEvent, groupId: string, rules: readonly SgRule[], adminPorts: readonly number[]): RuleResult {
  const offending = offendingAdminRules(rules, adminPorts);
  if (offending.length === 0) return nothing();
  const finding: Finding = {
    id: findingId('admin-port-open-to-world', event),
    rule: 'admin-port-open-to-world',
    severity: 'HIGH',
    summary: summarize(event, groupId, offending, adminPorts),
    resources: [{ type: 'security-group', id: groupId }],
    offendingRules: [{ groupId, rules: offending }],
  };
  return { findings: [finding] };
}

/** "SSH (22/tcp) opened to 0.0.0.0/0 on sg-0abc by alice". */
function summarize(event: ChangeEvent, groupId: string, offending: readonly SgRule[], adminPorts: readonly number[]): string {
  const ports = unique(offending.flatMap((r) => adminPorts.filter((p) => coversPort(r, p)).map((p) => describePort(r, p))));
  const sources = unique(offending.map((r) => wholeInternetSource(r) ?? ''));
  const by = event.origin === 'config' ? ' (seen by AWS Config)' : ` by ${actorLabel(event)}`;
  return `${list(ports)} opened to ${list(sources)} on ${groupId}${by}`;
}

const unique = (values: string[]): string[] => [...new Set(values.filter((v) => v.length > 0))];
const list = (values: string[]): string => (values.length <= 1 ? values.join('') : `${values.slice(0, -1).join(', ')} and ${values[values.length - 1]}`);
