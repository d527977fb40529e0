/**
 * Which context the decision about one event needs. Pure: the event and the policy in, a
 * request out; `gatherContext` (gather.ts) then reads it through the `ContextReader`.
 *
 * - Instances and security groups the event names: their tags carry the quarantine mark and
 *   exemptions, and an instance's interfaces, volumes, stack and Auto Scaling group are what
 *   isolation and replacement act on.
 * - The launched AMI, when the policy approves by owner or limits age (unapproved-ami needs
 *   the image's owner and creation date), and the SSM path of approved AMIs when one is set.
 * - Read-only events need nothing (no rule reads them). A failed call changed nothing and is
 *   never acted on, so it needs only what the rules read to report the attempt (the AMI).
 */
import type { ChangeEvent } from './model';
import type { Policy } from './policy/schema';

export interface ContextRequest {
  instanceIds: string[];
  securityGroupIds: string[];
  imageIds: string[];
  /** The SSM path of approved AMI ids, when the policy names one and the event launches an AMI. */
  approvedAmiPath?: string;
  /** Resources whose exemption tag's writer is looked up (when they carry the tag). */
  exemptionResourceIds: string[];
  /** The exemption tag key (policy.exemptions.tag), so gathering needs no policy. */
  exemptionTag: string;
}

const unique = (values: (string | undefined)[]): string[] =>
  [...new Set(values.filter((v): v is string => typeof v === 'string' && v.length > 0))].sort();

export function contextNeeds(event: ChangeEvent, policy: Policy): ContextRequest {
  const exemptionTag = policy.exemptions.tag;
  if (event.readOnly) {
    return { instanceIds: [], securityGroupIds: [], imageIds: [], exemptionResourceIds: [], exemptionTag };
  }
  const change = event.change;
  const instanceIds: (string | undefined)[] = [];
  const groupIds: (string | undefined)[] = [];
  let imageId: string | undefined;

  for (const ref of event.resources) {
    if (ref.type === 'instance') instanceIds.push(ref.id);
    if (ref.type === 'security-group') groupIds.push(ref.id);
  }
  switch (change.kind) {
    case 'security-group':
      groupIds.push(change.groupId);
      break;
    case 'instance-launch':
      instanceIds.push(...change.instanceIds);
      imageId = change.imageId;
      break;
    case 'instance-change':
    case 'shell-access':
      instanceIds.push(...change.instanceIds);
      break;
    case 'config-item':
      if (change.resourceType === 'AWS::EC2::Instance') {
        instanceIds.push(change.resourceId);
        imageId = change.imageId;
      }
      if (change.resourceType === 'AWS::EC2::SecurityGroup') groupIds.push(change.resourceId);
      break;
    default:
      break;
  }

  const amis = policy.approvedAmis;
  const amiRuleOn = policy.rules['unapproved-ami'].mode !== 'off';
  const needsImage = amiRuleOn && imageId !== undefined && (amis.owners.length > 0 || amis.maxAgeDays !== undefined);
  const needsSsm = amiRuleOn && imageId !== undefined && amis.ssmParameterPath !== undefined;

  // A failed call is never acted on: no instance or group context is needed for it.
  const acted = event.failure === undefined;
  const instances = acted ? unique(instanceIds) : [];
  const groups = acted ? unique(groupIds) : [];
  return {
    instanceIds: instances,
    securityGroupIds: groups,
    imageIds: needsImage ? unique([imageId]) : [],
    ...(needsSsm ? { approvedAmiPath: amis.ssmParameterPath } : {}),
    exemptionResourceIds: unique([...instances, ...groups]),
    exemptionTag,
  };
}
