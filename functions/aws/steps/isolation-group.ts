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
 *
 * Round trips: the responder reads every driftwarden group of the region in ONE
 * DescribeSecurityGroups (`prefetchDriftwardenGroups`), together with the other reads the
 * decision needs. That answer carries each group's rules (IpPermissions / IpPermissionsEgress),
 * so a group found there in shape needs no further call before use. Nothing is cached across
 * invocations: a spoofed tag or a rule added later must not poison a cache, so the shape is
 * always judged from this invocation's fresh answer. A group missing from the prefetch, or one
 * whose answer shows it out of shape or does not carry its rules, goes through the per-VPC
 * lookup (find or create, then DescribeSecurityGroupRules and repair), as before.
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

/**
 * Every driftwarden isolation and allow-all group of the region, as one DescribeSecurityGroups
 * answered. A promise, started with the reads; a failed prefetch only means the per-VPC lookup.
 */
export type DriftwardenGroupsPrefetch = Promise<SecurityGroup[]>;

/** Pages read at most (two groups per VPC: one page in any ordinary account). */
const PREFETCH_MAX_PAGES = 5;

/**
 * Reads every security group of the region tagged as a driftwarden isolation or allow-all group,
 * with its rules, in one call (more only past a page). Rejects on any error; callers
 * fall back to the per-VPC lookup.
 */
export async function prefetchDriftwardenGroups(ec2: EC2Client): Promise<SecurityGroup[]> {
  const groups: SecurityGroup[] = [];
  let nextToken: string | undefined;
  let pages = 0;
  do {
    const res = await ec2.send(
      new DescribeSecurityGroupsCommand({
        // Only a tagged group can be used without a further call, so only tagged groups are asked for;
        // each is still matched on its name and VPC, and judged on its rules, before use.
        Filters: [{ Name: 'tag-key', Values: [TAG.isolation, TAG.untrack] }],
        ...(nextToken ? { NextToken: nextToken } : {}),
      }),
    );
    groups.push(...(res.SecurityGroups ?? []));
    nextToken = res.NextToken;
  } while (nextToken && ++pages < PREFETCH_MAX_PAGES);
  return groups;
}

/** The group of that name in that VPC from the prefetch, or undefined (absent, or the prefetch failed). */
async function fromPrefetch(prefetch: DriftwardenGroupsPrefetch | undefined, name: string, vpcId: string): Promise<SecurityGroup | undefined> {
  if (!prefetch) return undefined;
  try {
    return (await prefetch).find((g) => g.GroupName === name && g.VpcId === vpcId && g.GroupId);
  } catch {
    return undefined;
  }
}

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
  known?: SecurityGroup,
): Promise<{ groupId: string; created: boolean }> {
  const existing = known ?? (await findGroup(ec2, name, vpcId));
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

/**
 * Whether the answer shows the group with no rule at all. Only an answer that carries both
 * lists counts: a group described without them is checked with DescribeSecurityGroupRules.
 */
function answeredEmpty(group: SecurityGroup): boolean {
  return Array.isArray(group.IpPermissions) && Array.isArray(group.IpPermissionsEgress) && group.IpPermissions.length === 0 && group.IpPermissionsEgress.length === 0;
}

/** Whether the group's tag says driftwarden made it (a missing tag is written back before use). */
const taggedAs = (group: SecurityGroup, tagKey: string): boolean => (group.Tags ?? []).some((t) => t.Key === tagKey && t.Value === 'true');

/**
 * Finds or creates the isolation group of the VPC and makes sure it has no rule at all.
 * `prefetch`: the region's driftwarden groups read with the context; a group found there with
 * no rule and its tag needs no call at all.
 */
export async function ensureIsolationGroup(ec2: EC2Client, vpcId: string, prefetch?: DriftwardenGroupsPrefetch): Promise<PreparedGroup> {
  const name = isolationGroupName(vpcId);
  const known = await fromPrefetch(prefetch, name, vpcId);
  if (known && answeredEmpty(known) && taggedAs(known, TAG.isolation)) return { groupId: known.GroupId!, created: false, repaired: [] };
  const { groupId, created } = await findOrCreate(
    ec2,
    name,
    vpcId,
    'driftwarden isolation: no ingress, no egress. Any rule here is removed before use.',
    TAG.isolation,
    known,
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

/** Whether the permissions, as DescribeSecurityGroups answers them, allow all traffic from/to everywhere, IPv4 and IPv6. */
function permissionsAllowAll(permissions: IpPermission[] | undefined): boolean {
  const all = (permissions ?? []).filter((p) => p.IpProtocol === '-1');
  return all.some((p) => (p.IpRanges ?? []).some((r) => r.CidrIp === ALL_IPV4)) && all.some((p) => (p.Ipv6Ranges ?? []).some((r) => r.CidrIpv6 === ALL_IPV6));
}

/**
 * Finds or creates the allow-all group of the VPC and makes sure it allows all traffic both ways.
 * `prefetch`: as for the isolation group; a group found there allowing everything both ways
 * needs no call at all.
 */
export async function ensureUntrackGroup(ec2: EC2Client, vpcId: string, prefetch?: DriftwardenGroupsPrefetch): Promise<PreparedGroup> {
  const name = untrackGroupName(vpcId);
  const known = await fromPrefetch(prefetch, name, vpcId);
  if (known && taggedAs(known, TAG.untrack) && permissionsAllowAll(known.IpPermissions) && permissionsAllowAll(known.IpPermissionsEgress)) {
    return { groupId: known.GroupId!, created: false, repaired: [] };
  }
  const { groupId, created } = await findOrCreate(
    ec2,
    name,
    vpcId,
    'driftwarden: allow-all group an instance passes through on its way to isolation, to untrack its connections.',
    TAG.untrack,
    known,
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
