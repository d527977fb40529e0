/**
 * The live `ContextReader`: reads resource context through the AWS SDK, read-only.
 *
 * Every lookup answers found / not-found / unknown. "Unknown" (any error other than a
 * definite "does not exist") carries the reason, and the core fails closed on it.
 */
import {
  DescribeImagesCommand,
  DescribeInstanceAttributeCommand,
  DescribeInstancesCommand,
  DescribeSecurityGroupsCommand,
  type Instance,
  type Tag as Ec2Tag,
} from '@aws-sdk/client-ec2';
import { paginateGetParametersByPath } from '@aws-sdk/client-ssm';
import {
  found,
  notFound,
  unknown,
  type ContextReader,
  type ImageContext,
  type InstanceContext,
  type Lookup,
  type SecurityGroupContext,
  type StackMembership,
  type TagWriter,
} from '../core/context';
import { describeAwsError, hasErrorName } from './aws-errors';
import { loadLaterClients, type AwsClients } from './clients';
import { realSleep } from './steps/context';

export const IAM_ACTIONS = [
  'ec2:DescribeInstances',
  'ec2:DescribeInstanceAttribute',
  'ec2:DescribeSecurityGroups',
  'ec2:DescribeImages',
  'ssm:GetParametersByPath',
  'cloudtrail:LookupEvents',
] as const;

export interface AwsContextReaderOptions {
  /** Tries of DescribeInstances while a just-launched instance is not yet visible. Default 4. */
  instanceTries?: number;
  /** First backoff between those tries, doubled each time. Default 250 ms. */
  backoffMs?: number;
  /** Waits between tries. Default: a real timer. */
  sleep?: (ms: number) => Promise<void>;
  /** CloudTrail LookupEvents pages read at most (the API allows 2 calls a second). Default 5. */
  maxLookupPages?: number;
}

const AMI_ID = /^ami-[0-9a-f]{8,17}$/;

export function tagsToRecord(tags: { Key?: string; Value?: string }[] | undefined): Record<string, string> {
  const out: Record<string, string> = {};
  for (const t of tags ?? []) if (t.Key !== undefined) out[t.Key] = t.Value ?? '';
  return out;
}

export function stackFromTags(tags: Record<string, string>): StackMembership | undefined {
  const stackName = tags['aws:cloudformation:stack-name'];
  if (!stackName) return undefined;
  const stack: StackMembership = { stackName };
  if (tags['aws:cloudformation:stack-id']) stack.stackId = tags['aws:cloudformation:stack-id'];
  if (tags['aws:cloudformation:logical-id']) stack.logicalId = tags['aws:cloudformation:logical-id'];
  return stack;
}

/** Turns a DescribeInstances instance (and its two attributes) into context. Pure. */
export function toInstanceContext(
  instance: Instance,
  attributes: { terminationProtection?: boolean; shutdownBehavior?: string } = {},
): InstanceContext {
  const tags = tagsToRecord(instance.Tags as Ec2Tag[] | undefined);
  const ctx: InstanceContext = {
    instanceId: instance.InstanceId ?? '',
    state: instance.State?.Name ?? 'unknown',
    tags,
    networkInterfaces: (instance.NetworkInterfaces ?? [])
      .filter((eni) => eni.NetworkInterfaceId)
      .map((eni) => ({
        networkInterfaceId: eni.NetworkInterfaceId!,
        groups: (eni.Groups ?? []).map((g) => g.GroupId).filter((g): g is string => typeof g === 'string'),
        ...(eni.Attachment?.DeviceIndex !== undefined ? { deviceIndex: eni.Attachment.DeviceIndex } : {}),
      }))
      .sort((a, b) => (a.deviceIndex ?? 0) - (b.deviceIndex ?? 0)),
    volumes: (instance.BlockDeviceMappings ?? [])
      .filter((m) => m.Ebs?.VolumeId)
      .map((m) => ({ volumeId: m.Ebs!.VolumeId!, ...(m.DeviceName ? { deviceName: m.DeviceName } : {}) })),
  };
  if (instance.ImageId) ctx.imageId = instance.ImageId;
  if (instance.KeyName) ctx.keyName = instance.KeyName;
  if (instance.VpcId) ctx.vpcId = instance.VpcId;
  if (instance.SubnetId) ctx.subnetId = instance.SubnetId;
  if (instance.LaunchTime) ctx.launchTime = new Date(instance.LaunchTime).toISOString();
  if (instance.IamInstanceProfile?.Arn) ctx.iamInstanceProfileArn = instance.IamInstanceProfile.Arn;
  const asg = tags['aws:autoscaling:groupName'];
  if (asg) ctx.autoScalingGroup = asg;
  const stack = stackFromTags(tags);
  if (stack) ctx.stack = stack;
  const ltId = tags['aws:ec2launchtemplate:id'];
  const ltVersion = tags['aws:ec2launchtemplate:version'];
  if (ltId || ltVersion) ctx.launchTemplate = { ...(ltId ? { id: ltId } : {}), ...(ltVersion ? { version: ltVersion } : {}) };
  if (attributes.terminationProtection !== undefined) ctx.terminationProtection = attributes.terminationProtection;
  if (attributes.shutdownBehavior !== undefined) ctx.shutdownBehavior = attributes.shutdownBehavior;
  return ctx;
}

/** The issuing role's ARN for an assumed role, else the caller's ARN, from a CloudTrail record. */
export function callerArn(record: { userIdentity?: Record<string, unknown> }): string | undefined {
  const id = record.userIdentity ?? {};
  const issuer = (id.sessionContext as { sessionIssuer?: { arn?: unknown } } | undefined)?.sessionIssuer?.arn;
  if (id.type === 'AssumedRole' && typeof issuer === 'string' && issuer) return issuer;
  return typeof id.arn === 'string' && id.arn ? id.arn : typeof issuer === 'string' && issuer ? issuer : undefined;
}

/** Tag keys a CloudTrail CreateTags record sets (`requestParameters.tagSet.items[].key`). */
function createTagsKeys(record: Record<string, unknown>): string[] {
  const params = record.requestParameters as { tagSet?: { items?: { key?: unknown }[] } } | undefined;
  return (params?.tagSet?.items ?? []).map((i) => i.key).filter((k): k is string => typeof k === 'string');
}

type SettledAttributes<T> = { ok: true; value: T } | { ok: false; error: unknown };
function settleAttributes<T>(promise: Promise<T>): Promise<SettledAttributes<T>> {
  return promise.then(
    (value) => ({ ok: true as const, value }),
    (error: unknown) => ({ ok: false as const, error }),
  );
}

export class AwsContextReader implements ContextReader {
  private readonly instanceTries: number;
  private readonly backoffMs: number;
  private readonly sleep: (ms: number) => Promise<void>;
  private readonly maxLookupPages: number;

  constructor(
    private readonly clients: Pick<AwsClients, 'ec2' | 'ssm' | 'cloudTrail'>,
    options: AwsContextReaderOptions = {},
  ) {
    this.instanceTries = Math.max(1, options.instanceTries ?? 4);
    this.backoffMs = options.backoffMs ?? 250;
    this.sleep = options.sleep ?? realSleep;
    this.maxLookupPages = Math.max(1, options.maxLookupPages ?? 5);
  }

  /**
   * The instance and its two attributes. The attributes need only the instance id, so they go
   * out together with DescribeInstances (one round trip, not two). A just-launched instance
   * can be invisible to both for a moment: when DescribeInstances had to be asked again, the
   * attributes are asked again too if their first answer was an error.
   */
  async instance(instanceId: string): Promise<Lookup<InstanceContext>> {
    const readAttributes = () =>
      Promise.all([
        this.clients.ec2.send(new DescribeInstanceAttributeCommand({ InstanceId: instanceId, Attribute: 'disableApiTermination' })),
        this.clients.ec2.send(new DescribeInstanceAttributeCommand({ InstanceId: instanceId, Attribute: 'instanceInitiatedShutdownBehavior' })),
      ]);
    // Settled at once so that a rejection never goes unobserved while DescribeInstances runs.
    let attributes = settleAttributes(readAttributes());
    try {
      let instance: Instance | undefined;
      for (let attempt = 1; attempt <= this.instanceTries; attempt++) {
        const res = await this.clients.ec2.send(new DescribeInstancesCommand({ InstanceIds: [instanceId] }));
        instance = res.Reservations?.flatMap((r) => r.Instances ?? []).find((i) => i.InstanceId === instanceId);
        if (instance) break;
        // Right after RunInstances, DescribeInstances can answer with no reservations
        // (eventual consistency): wait and ask again before calling it absent.
        if (attempt < this.instanceTries) await this.sleep(this.backoffMs * 2 ** (attempt - 1));
      }
      if (!instance) return notFound();
      if (instance.State?.Name === 'terminated') return found(toInstanceContext(instance));
      let answered = await attributes;
      // The early attribute reads may have raced an instance that was not yet visible.
      if (!answered.ok && hasErrorName(answered.error, 'InvalidInstanceID.NotFound')) {
        attributes = settleAttributes(readAttributes());
        answered = await attributes;
      }
      if (!answered.ok) throw answered.error;
      const [protection, shutdown] = answered.value;
      return found(
        toInstanceContext(instance, {
          terminationProtection: protection.DisableApiTermination?.Value ?? false,
          ...(shutdown.InstanceInitiatedShutdownBehavior?.Value ? { shutdownBehavior: shutdown.InstanceInitiatedShutdownBehavior.Value } : {}),
        }),
      );
    } catch (err) {
      if (hasErrorName(err, 'InvalidInstanceID.NotFound')) return notFound();
      return unknown(`could not describe instance ${instanceId}: ${describeAwsError(err)}`);
    }
  }

  async securityGroup(groupId: string): Promise<Lookup<SecurityGroupContext>> {
    try {
      const res = await this.clients.ec2.send(new DescribeSecurityGroupsCommand({ GroupIds: [groupId] }));
      const group = res.SecurityGroups?.find((g) => g.GroupId === groupId);
      if (!group) return notFound();
      const tags = tagsToRecord(group.Tags);
      const ctx: SecurityGroupContext = { groupId, tags };
      if (group.GroupName) ctx.groupName = group.GroupName;
      if (group.VpcId) ctx.vpcId = group.VpcId;
      const stack = stackFromTags(tags);
      if (stack) ctx.stack = stack;
      return found(ctx);
    } catch (err) {
      if (hasErrorName(err, 'InvalidGroup.NotFound', 'InvalidGroupId.Malformed')) return notFound();
      return unknown(`could not describe security group ${groupId}: ${describeAwsError(err)}`);
    }
  }

  async image(imageId: string): Promise<Lookup<ImageContext>> {
    try {
      const res = await this.clients.ec2.send(new DescribeImagesCommand({ ImageIds: [imageId] }));
      const image = res.Images?.find((i) => i.ImageId === imageId);
      if (!image) return notFound();
      const ctx: ImageContext = { imageId };
      if (image.OwnerId) ctx.ownerId = image.OwnerId;
      if (image.CreationDate) ctx.creationDate = new Date(image.CreationDate).toISOString();
      if (image.Name) ctx.name = image.Name;
      return found(ctx);
    } catch (err) {
      if (hasErrorName(err, 'InvalidAMIID.NotFound', 'InvalidAMIID.Unavailable', 'InvalidAMIID.Malformed')) return notFound();
      return unknown(`could not describe image ${imageId}: ${describeAwsError(err)}`);
    }
  }

  /**
   * Every AMI id under the path (recursive). A parameter may hold one id or a
   * comma-separated StringList. A path with no parameter at all is `not-found`, so a
   * mistyped path reads as "not configured" rather than "nothing is approved".
   */
  async approvedAmiIds(ssmPath: string): Promise<Lookup<string[]>> {
    try {
      const ids = new Set<string>();
      let parameters = 0;
      for await (const page of paginateGetParametersByPath({ client: this.clients.ssm }, { Path: ssmPath, Recursive: true })) {
        for (const p of page.Parameters ?? []) {
          parameters++;
          for (const value of (p.Value ?? '').split(',')) {
            const v = value.trim();
            if (AMI_ID.test(v)) ids.add(v);
          }
        }
      }
      if (parameters === 0) return notFound();
      return found([...ids].sort());
    } catch (err) {
      return unknown(`could not read approved AMI ids under ${ssmPath}: ${describeAwsError(err)}`);
    }
  }

  /** The newest successful CreateTags on the resource that set `tagKey`, from CloudTrail's 90-day event history. */
  async tagWriter(resourceId: string, tagKey: string): Promise<Lookup<TagWriter>> {
    try {
      let pages = 0;
      // CloudTrail's client is loaded on first use: few events ask who wrote a tag.
      const { paginateLookupEvents } = await loadLaterClients();
      const paginator = paginateLookupEvents(
        { client: this.clients.cloudTrail, pageSize: 50 },
        { LookupAttributes: [{ AttributeKey: 'ResourceName', AttributeValue: resourceId }] },
      );
      for await (const page of paginator) {
        // LookupEvents answers newest first, so the first match is the latest writer.
        for (const event of page.Events ?? []) {
          if (event.EventName !== 'CreateTags' || !event.CloudTrailEvent) continue;
          let record: Record<string, unknown>;
          try {
            record = JSON.parse(event.CloudTrailEvent) as Record<string, unknown>;
          } catch {
            continue;
          }
          if (record.errorCode) continue; // a failed call set nothing
          if (!createTagsKeys(record).includes(tagKey)) continue;
          const arn = callerArn(record as { userIdentity?: Record<string, unknown> });
          if (!arn) return unknown(`CreateTags of ${tagKey} on ${resourceId} names no caller ARN`);
          const time = typeof record.eventTime === 'string' ? record.eventTime : event.EventTime ? new Date(event.EventTime).toISOString() : '';
          return found({ arn, time });
        }
        if (++pages >= this.maxLookupPages && page.NextToken) {
          // Stopping early cannot prove absence: say so rather than guess (fail closed).
          return unknown(`no CreateTags of ${tagKey} on ${resourceId} in the newest ${pages} pages of CloudTrail history`);
        }
      }
      return notFound();
    } catch (err) {
      return unknown(`could not read who tagged ${resourceId} with ${tagKey}: ${describeAwsError(err)}`);
    }
  }
}
