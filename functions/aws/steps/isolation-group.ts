/**
 * The two per-VPC security groups that isolation moves an instance through.
 *
 * - `driftwarden-isolation-<vpcId>`: no ingress, no egress. Found by name and VPC, created
 *   when missing (tagged `driftwarden:isolation=true`). A tag or a name can be spoofed and
 *   a rule can be added to the group later, so before EACH use its rules are read and any
 *   rule at all is revoked (that is also how the default egress rule of a new group goes).
 * - `driftwarden-untrack-<vpcId>`: all traffic in and out, IPv4 and IPv6. Moving an
 *   interface into it first turns tracked connections into untracked ones (see
 *   isolate-instance.ts). Its rules are checked and completed before each use as well.
 */
import {
  AuthorizeSecurityGroupEgressCommand,
  AuthorizeSecurityGroupIngressCommand,
  CreateSecurityGroupCommand,
  CreateTagsCommand,
  DescribeSecurityGroupRulesCommand,
  DescribeSecurityGroupsCommand,
  RevokeSecurityGroupEgressCommand,
  RevokeSecurityGroupIngressCommand,
  type EC2Client,
  type IpPermission,
  type SecurityGroup,
  type SecurityGroupRule,
} from '@aws-sdk/client-ec2';
import { hasErrorName } from '../aws-errors';
import { TAG } from '../instances';

export const IAM_ACTIONS = [
  'ec2:DescribeSecurityGroups',
  'ec2:DescribeSecurityGroupRules',
  'ec2:CreateSecurityGroup',
  'ec2:CreateTags',
  'ec2:RevokeSecurityGroupIngress',
  'ec2:RevokeSecurityGroupEgress',
  'ec2:AuthorizeSecurityGroupIngress',
  'ec2:AuthorizeSecurityGroupEgress',
] as const;

export const isolationGroupName = (vpcId: string): string => `driftwarden-isolation-${vpcId}`;
export const untrackGroupName = (vpcId: string): string => `driftwarden-untrack-${vpcId}`;

export interface PreparedGroup {
  groupId: string;
  created: boolean;
  /** Rule ids revoked (isolation) or rules added (untrack) to bring the group to its required shape. */
  repaired: string[];
}

async function findGroup(ec2: EC2Client, name: string, vpcId: string): Promise<SecurityGroup | undefined> {
  const res = await ec2.send(
    new DescribeSecurityGroupsCommand({
      Filters: [
        { Name: 'group-name', Values: [name] },
        { Name: 'vpc-id', Values: [vpcId] },
      ],
    }),
  );
  return res.SecurityGroups?.find((g) => g.GroupName === name && g.VpcId === vpcId);
}

async function findOrCreate(
  ec2: EC2Client,
  name: string,
  vpcId: string,
  description: string,
  tagKey: string,
): Promise<{ groupId: string; created: boolean }> {
  const existing = await findGroup(ec2, name, vpcId);
  if (existing?.GroupId) {
    const tagged = (existing.Tags ?? []).some((t) => t.Key === tagKey && t.Value === 'true');
    if (!tagged) await ec2.send(new CreateTagsCommand({ Resources: [existing.GroupId], Tags: [{ Key: tagKey, Value: 'true' }] }));
    return { groupId: existing.GroupId, created: false };
  }
  try {
    const res = await ec2.send(
      new CreateSecurityGroupCommand({
        GroupName: name,
        Description: description,
        VpcId: vpcId,
        TagSpecifications: [
          {
            ResourceType: 'security-group',
            Tags: [
              { Key: 'Name', Value: name },
              { Key: tagKey, Value: 'true' },
            ],
          },
        ],
      }),
    );
    if (!res.GroupId) throw new Error(`CreateSecurityGroup for ${name} returned no GroupId`);
    return { groupId: res.GroupId, created: true };
  } catch (err) {
    // Another isolation in the same VPC created it a moment ago: use that one.
    if (hasErrorName(err, 'InvalidGroup.Duplicate')) {
      const raced = await findGroup(ec2, name, vpcId);
      if (raced?.GroupId) return { groupId: raced.GroupId, created: false };
    }
    throw err;
  }
}

async function groupRules(ec2: EC2Client, groupId: string): Promise<SecurityGroupRule[]> {
  const rules: SecurityGroupRule[] = [];
  let nextToken: string | undefined;
  do {
    const res = await ec2.send(
      new DescribeSecurityGroupRulesCommand({ Filters: [{ Name: 'group-id', Values: [groupId] }], ...(nextToken ? { NextToken: nextToken } : {}) }),
    );
    rules.push(...(res.SecurityGroupRules ?? []).filter((r) => r.GroupId === undefined || r.GroupId === groupId));
    nextToken = res.NextToken;
  } while (nextToken);
  return rules;
}

/** Finds or creates the isolation group of the VPC and makes sure it has no rule at all. */
export async function ensureIsolationGroup(ec2: EC2Client, vpcId: string): Promise<PreparedGroup> {
  const { groupId, created } = await findOrCreate(
    ec2,
    isolationGroupName(vpcId),
    vpcId,
    'driftwarden isolation: no ingress, no egress. Any rule here is removed before use.',
    TAG.isolation,
  );
  const rules = await groupRules(ec2, groupId);
  const ingress = rules.filter((r) => !r.IsEgress && r.SecurityGroupRuleId).map((r) => r.SecurityGroupRuleId!);
  const egress = rules.filter((r) => r.IsEgress && r.SecurityGroupRuleId).map((r) => r.SecurityGroupRuleId!);
  if (ingress.length > 0) await ec2.send(new RevokeSecurityGroupIngressCommand({ GroupId: groupId, SecurityGroupRuleIds: ingress }));
  if (egress.length > 0) await ec2.send(new RevokeSecurityGroupEgressCommand({ GroupId: groupId, SecurityGroupRuleIds: egress }));
  return { groupId, created, repaired: [...ingress, ...egress] };
}

const ALL_IPV4 = '0.0.0.0/0';
const ALL_IPV6 = '::/0';

function allowsAll(rules: SecurityGroupRule[], egress: boolean, cidr: 'v4' | 'v6'): boolean {
  return rules.some(
    (r) => Boolean(r.IsEgress) === egress && r.IpProtocol === '-1' && (cidr === 'v4' ? r.CidrIpv4 === ALL_IPV4 : r.CidrIpv6 === ALL_IPV6),
  );
}

function missingPermission(rules: SecurityGroupRule[], egress: boolean): IpPermission | undefined {
  const v4 = !allowsAll(rules, egress, 'v4');
  const v6 = !allowsAll(rules, egress, 'v6');
  if (!v4 && !v6) return undefined;
  return {
    IpProtocol: '-1',
    ...(v4 ? { IpRanges: [{ CidrIp: ALL_IPV4, Description: 'driftwarden: untrack connections before isolation' }] } : {}),
    ...(v6 ? { Ipv6Ranges: [{ CidrIpv6: ALL_IPV6, Description: 'driftwarden: untrack connections before isolation' }] } : {}),
  };
}

/** Finds or creates the allow-all group of the VPC and makes sure it allows all traffic both ways. */
export async function ensureUntrackGroup(ec2: EC2Client, vpcId: string): Promise<PreparedGroup> {
  const { groupId, created } = await findOrCreate(
    ec2,
    untrackGroupName(vpcId),
    vpcId,
    'driftwarden: allow-all group an instance passes through on its way to isolation, to untrack its connections.',
    TAG.untrack,
  );
  const rules = await groupRules(ec2, groupId);
  const repaired: string[] = [];
  const ingress = missingPermission(rules, false);
  if (ingress) {
    await ec2.send(new AuthorizeSecurityGroupIngressCommand({ GroupId: groupId, IpPermissions: [ingress] }));
    repaired.push('ingress all');
  }
  const egress = missingPermission(rules, true);
  if (egress) {
    await ec2.send(new AuthorizeSecurityGroupEgressCommand({ GroupId: groupId, IpPermissions: [egress] }));
    repaired.push('egress all');
  }
  return { groupId, created, repaired };
}
