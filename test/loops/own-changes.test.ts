/**
 * No loops: every change driftwarden makes comes back to it through CloudTrail and EventBridge.
 * Each mutating call it sent is turned into the record CloudTrail would write for it, made by
 * driftwarden's own role, and fed back to `respond`: nothing mutating may follow. And a change
 * by someone else to an instance driftwarden already quarantined is never acted on.
 */
import { MUTATING_COMMANDS } from '../../functions/aws/iam';
import type { SentCall } from '../aws/fixtures';
import { ACCOUNT, harness, INSTANCES, NOW, REGION, restoreMocks, SAMPLES, sample, type Harness } from '../responder/harness';

const ROLE = `arn:aws:iam::${ACCOUNT}:role/driftwarden-responder-${REGION}`;
const SESSION_ARN = `arn:aws:sts::${ACCOUNT}:assumed-role/driftwarden-responder-${REGION}/driftwarden-responder-${REGION}`;

const SOURCES: Record<string, { eventSource: string; source: string }> = {
  ec2: { eventSource: 'ec2.amazonaws.com', source: 'aws.ec2' },
  autoScaling: { eventSource: 'autoscaling.amazonaws.com', source: 'aws.autoscaling' },
  elbv2: { eventSource: 'elasticloadbalancing.amazonaws.com', source: 'aws.elasticloadbalancing' },
  cloudFormation: { eventSource: 'cloudformation.amazonaws.com', source: 'aws.cloudformation' },
  sns: { eventSource: 'sns.amazonaws.com', source: 'aws.sns' },
  ssm: { eventSource: 'ssm.amazonaws.com', source: 'aws.ssm' },
};

const MUTATING = new Set<string>(MUTATING_COMMANDS);
const lowerFirst = (key: string) => key.charAt(0).toLowerCase() + key.slice(1);

/** An SDK input as CloudTrail writes requestParameters: lowerCamel keys; EC2 wraps lists in `{ items: [...] }`. */
function cloudTrailShape(value: unknown, ec2: boolean): unknown {
  if (Array.isArray(value)) {
    const items = value.map((v) => cloudTrailShape(v, ec2));
    return ec2 ? { items } : items;
  }
  if (value instanceof Date) return value.toISOString();
  if (value && typeof value === 'object') return Object.fromEntries(Object.entries(value).map(([k, v]) => [lowerFirst(k), cloudTrailShape(v, ec2)]));
  return value;
}

/** The requestParameters CloudTrail records for one SDK call, in CloudTrail's own field names where they differ. */
function requestParameters(call: SentCall): Record<string, unknown> {
  const input = call.input as Record<string, unknown>;
  const ec2 = call.client === 'ec2';
  switch (call.command) {
    case 'CreateTagsCommand':
    case 'DeleteTagsCommand':
      return {
        resourcesSet: { items: (input.Resources as string[]).map((resourceId) => ({ resourceId })) },
        tagSet: { items: ((input.Tags as { Key: string; Value?: string }[]) ?? []).map((t) => ({ key: t.Key, ...(t.Value !== undefined ? { value: t.Value } : {}) })) },
      };
    case 'ModifyNetworkInterfaceAttributeCommand':
      return { networkInterfaceId: input.NetworkInterfaceId, groupSet: { items: (input.Groups as string[]).map((groupId) => ({ groupId })) } };
    case 'TerminateInstancesCommand':
      return { instancesSet: { items: (input.InstanceIds as string[]).map((instanceId) => ({ instanceId })) } };
    case 'RevokeSecurityGroupIngressCommand':
    case 'RevokeSecurityGroupEgressCommand':
      return input.SecurityGroupRuleIds
        ? { groupId: input.GroupId, securityGroupRuleIds: { items: (input.SecurityGroupRuleIds as string[]).map((securityGroupRuleId) => ({ securityGroupRuleId })) } }
        : (cloudTrailShape(input, true) as Record<string, unknown>);
    case 'AuthorizeSecurityGroupIngressCommand':
    case 'AuthorizeSecurityGroupEgressCommand':
      return {
        groupId: input.GroupId,
        ipPermissions: {
          items: (input.IpPermissions as { IpProtocol: string; IpRanges?: { CidrIp: string }[]; Ipv6Ranges?: { CidrIpv6: string }[] }[]).map((p) => ({
            ipProtocol: p.IpProtocol,
            groups: {},
            ipRanges: p.IpRanges ? { items: p.IpRanges.map((r) => ({ cidrIp: r.CidrIp })) } : {},
            ipv6Ranges: p.Ipv6Ranges ? { items: p.Ipv6Ranges.map((r) => ({ cidrIpv6: r.CidrIpv6 })) } : {},
            prefixListIds: {},
          })),
        },
      };
    default:
      return cloudTrailShape(input, ec2) as Record<string, unknown>;
  }
}

/** The EventBridge event CloudTrail's record of one of driftwarden's own calls arrives as. */
export function ownCallEvent(call: SentCall, n: number): Record<string, unknown> {
  const { eventSource, source } = SOURCES[call.client]!;
  const time = new Date(NOW.getTime() + n * 1000).toISOString().replace('.000', '');
  const eventName = call.command.replace(/Command$/, '');
  return {
    version: '0',
    id: `own-${n}`,
    'detail-type': 'AWS API Call via CloudTrail',
    source,
    account: ACCOUNT,
    time,
    region: REGION,
    resources: [],
    detail: {
      eventVersion: '1.10',
      userIdentity: {
        type: 'AssumedRole',
        principalId: `AROAEXAMPLEDRIFTWRD01:driftwarden-responder-${REGION}`,
        arn: SESSION_ARN,
        accountId: ACCOUNT,
        accessKeyId: 'ASIAEXAMPLEDW0000001',
        sessionContext: {
          sessionIssuer: { type: 'Role', principalId: 'AROAEXAMPLEDRIFTWRD01', arn: ROLE, accountId: ACCOUNT, userName: `driftwarden-responder-${REGION}` },
          attributes: { creationDate: '2026-11-20T09:00:00Z', mfaAuthenticated: 'false' },
        },
      },
      eventTime: time,
      eventSource,
      eventName,
      awsRegion: REGION,
      sourceIPAddress: '34.248.10.20',
      userAgent: 'aws-sdk-js/3 exec-env/AWS_Lambda_nodejs22.x',
      requestParameters: requestParameters(call),
      responseElements: null,
      requestID: `req-own-${n}`,
      eventID: `0000${String(n).padStart(4, '0')}-own0-4c3d-8e4f-a0b1c2d3e4f5`,
      readOnly: false,
      eventType: 'AwsApiCall',
      managementEvent: true,
      recipientAccountId: ACCOUNT,
      eventCategory: 'Management',
    },
  };
}

let h: Harness;
beforeEach(() => {
  h = harness();
});
afterEach(() => restoreMocks(h));

test.each([
  ['a standalone stack instance replaced through its stack', SAMPLES.stackInstance, ['ModifyNetworkInterfaceAttributeCommand', 'CreateTagsCommand', 'CreateSnapshotCommand', 'UpdateStackCommand']],
  ['an Auto Scaling member detached from its group', SAMPLES.asgMember, ['DetachInstancesCommand', 'DeregisterTargetsCommand', 'ModifyInstanceAttributeCommand']],
  ['an SSH rule revoked', SAMPLES.ssh, ['RevokeSecurityGroupIngressCommand']],
  ['isolation groups created on first use', SAMPLES.unapprovedAmi, ['CreateSecurityGroupCommand', 'AuthorizeSecurityGroupIngressCommand', 'RevokeSecurityGroupEgressCommand']],
])('%s: every call driftwarden made, seen again through CloudTrail, triggers no mutating call', async (_label, name, mustInclude) => {
  if (name === SAMPLES.unapprovedAmi) {
    restoreMocks(h);
    h = harness({ account: { isolationGroupsExist: false } });
  }
  await h.respond(sample(name));
  const own = h.mutatingCalls();
  expect(own.map((c) => c.command)).toEqual(expect.arrayContaining(mustInclude));

  const before = h.calls().length;
  const decisions: string[] = [];
  for (const [n, call] of own.entries()) {
    const summary = await h.respond(ownCallEvent(call, n + 1));
    expect(summary.status).not.toBe('rejected');
    decisions.push(`${call.command}: ${summary.decision}`);
  }
  const after = h.calls().slice(before);
  expect(after.filter((c) => MUTATING.has(c.command))).toEqual([]);
  expect(decisions.filter((d) => !/: (trusted|no-finding)$/.test(d))).toEqual([]);
});

test('a change by an untrusted user to an instance driftwarden quarantined is never acted on', async () => {
  await h.respond(sample(SAMPLES.stackInstance));
  expect(h.world.instance(INSTANCES.stack)!.tags!['driftwarden:quarantined']).toBe('instance-manual-change:00000007-1a2b-4c3d-8e4f-a0b1c2d3e4f5');
  const before = h.calls().length;

  const later = sample(SAMPLES.stackInstance) as { id: string; detail: Record<string, unknown> };
  const tamper = { ...later, id: 'e-later', detail: { ...later.detail, eventID: '0000dead-1a2b-4c3d-8e4f-a0b1c2d3e4f5', eventTime: '2026-11-20T09:19:00Z', requestParameters: { instanceId: INSTANCES.stack, instanceType: { value: 'm5.xlarge' } } } };
  const summary = await h.respond(tamper);

  expect(summary).toMatchObject({ status: 'processed', decision: 'quarantined' });
  expect(h.calls().slice(before).filter((c) => MUTATING.has(c.command))).toEqual([]);
});
