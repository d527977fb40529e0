/**
 * Step `revoke-rule`: revoke exactly the offending security-group rules.
 *
 * Never the whole group, never a legitimate rule that was there before: when every rule
 * has its `sgr-…` id, revoke by id; otherwise revoke the exact permission as recorded,
 * one source per permission, so that a revoke can never cover more than the rule did.
 * A rule with no source at all cannot be revoked exactly, so it is refused.
 *
 * Idempotent: AWS answers `Return: true` with the permissions it did not find in
 * `UnknownIpPermissions` (rule already gone), or InvalidPermission.NotFound /
 * InvalidSecurityGroupRuleId.NotFound: both mean "already done".
 */
import {
  RevokeSecurityGroupEgressCommand,
  RevokeSecurityGroupIngressCommand,
  type IpPermission,
  type RevokeSecurityGroupIngressCommandOutput,
} from '@aws-sdk/client-ec2';
import type { RevokeRuleStep, StepOutcome } from '../../core/decision';
import type { SgRule } from '../../core/model';
import { hasErrorName } from '../aws-errors';
import type { StepContext } from './context';
import { combine, failedOutcome, guarded, outcome } from './outcome';

export const IAM_ACTIONS = ['ec2:RevokeSecurityGroupIngress', 'ec2:RevokeSecurityGroupEgress'] as const;

/** The exact IpPermission for one rule: one source, ports only when the protocol has them. */
export function ruleToPermission(rule: SgRule): IpPermission {
  const permission: IpPermission = { IpProtocol: rule.protocol };
  if (rule.protocol !== '-1') {
    if (rule.fromPort !== undefined) permission.FromPort = rule.fromPort;
    if (rule.toPort !== undefined) permission.ToPort = rule.toPort;
  }
  if (rule.cidrIpv4) permission.IpRanges = [{ CidrIp: rule.cidrIpv4 }];
  else if (rule.cidrIpv6) permission.Ipv6Ranges = [{ CidrIpv6: rule.cidrIpv6 }];
  else if (rule.prefixListId) permission.PrefixListIds = [{ PrefixListId: rule.prefixListId }];
  else if (rule.referencedGroupId) permission.UserIdGroupPairs = [{ GroupId: rule.referencedGroupId }];
  return permission;
}

function hasSource(rule: SgRule): boolean {
  return Boolean(rule.cidrIpv4 || rule.cidrIpv6 || rule.prefixListId || rule.referencedGroupId);
}

export function describeRule(rule: SgRule): string {
  const ports = rule.protocol === '-1' ? 'all' : rule.fromPort === rule.toPort ? `${rule.fromPort}` : `${rule.fromPort}-${rule.toPort}`;
  const source = rule.cidrIpv4 ?? rule.cidrIpv6 ?? rule.prefixListId ?? rule.referencedGroupId ?? '?';
  return `${rule.ruleId ? `${rule.ruleId} ` : ''}${rule.direction} ${ports}/${rule.protocol === '-1' ? 'all' : rule.protocol} ${source}`;
}

async function revokeDirection(step: RevokeRuleStep, direction: 'ingress' | 'egress', rules: SgRule[], ctx: StepContext): Promise<StepOutcome> {
  const groupId = step.resource;
  const byId = rules.every((r) => typeof r.ruleId === 'string' && r.ruleId.length > 0);
  if (!byId) {
    const sourceless = rules.filter((r) => !hasSource(r));
    if (sourceless.length > 0) {
      return {
        ...outcome(step, 'failed', `refused to revoke ${sourceless.map(describeRule).join(', ')} on ${groupId}: the rule names no source and no rule id, so an exact revoke is impossible`),
        errorName: 'RuleNotExact',
      };
    }
  }
  const input = byId
    ? { GroupId: groupId, SecurityGroupRuleIds: rules.map((r) => r.ruleId!) }
    : { GroupId: groupId, IpPermissions: rules.map(ruleToPermission) };
  const what = rules.map(describeRule).join(', ');
  let res: RevokeSecurityGroupIngressCommandOutput;
  try {
    res =
      direction === 'ingress'
        ? await ctx.clients.ec2.send(new RevokeSecurityGroupIngressCommand(input))
        : await ctx.clients.ec2.send(new RevokeSecurityGroupEgressCommand(input));
  } catch (err) {
    if (hasErrorName(err, 'InvalidPermission.NotFound', 'InvalidSecurityGroupRuleId.NotFound')) {
      return outcome(step, 'already-done', `rule already gone on ${groupId}: ${what}`);
    }
    if (hasErrorName(err, 'InvalidGroup.NotFound')) {
      return outcome(step, 'already-done', `security group ${groupId} no longer exists, so neither does ${what}`);
    }
    return failedOutcome(step, err, `could not revoke ${what} on ${groupId}`);
  }
  if (res.Return === false) {
    return { ...outcome(step, 'failed', `AWS refused to revoke ${what} on ${groupId} (Return false)`), errorName: 'RevokeReturnedFalse' };
  }
  const revoked = (res.RevokedSecurityGroupRules ?? []).map((r) => r.SecurityGroupRuleId).filter((id): id is string => Boolean(id));
  const unknownCount = (res.UnknownIpPermissions ?? []).reduce(
    (n, p) => n + Math.max(1, (p.IpRanges?.length ?? 0) + (p.Ipv6Ranges?.length ?? 0) + (p.PrefixListIds?.length ?? 0) + (p.UserIdGroupPairs?.length ?? 0)),
    0,
  );
  const produced = { groupId, direction, revokedRuleIds: revoked };
  if (unknownCount > 0 && unknownCount >= rules.length) {
    return outcome(step, 'already-done', `rule already gone on ${groupId}: ${what}`, produced);
  }
  const revokedText = revoked.length > 0 ? `revoked ${revoked.join(', ')} (${what})` : `revoked ${what}`;
  return outcome(step, 'done', unknownCount > 0 ? `${revokedText} on ${groupId}; ${unknownCount} already gone` : `${revokedText} on ${groupId}`, produced);
}

export function run(step: RevokeRuleStep, ctx: StepContext): Promise<StepOutcome> {
  return guarded(step, async () => {
    if (step.rules.length === 0) return outcome(step, 'skipped', `no rule to revoke on ${step.resource}`);
    const parts: StepOutcome[] = [];
    for (const direction of ['ingress', 'egress'] as const) {
      const rules = step.rules.filter((r) => r.direction === direction);
      if (rules.length > 0) parts.push(await revokeDirection(step, direction, rules, ctx));
    }
    const revokedRuleIds = parts.flatMap((p) => ((p.produced?.revokedRuleIds as string[] | undefined) ?? []));
    return combine(step, parts, { groupId: step.resource, revokedRuleIds });
  });
}
