/**
 * Resource context: what the event does not carry but the decision needs (tags, stack and
 * Auto Scaling membership, approved AMIs, network interfaces, volumes).
 *
 * The core only ever sees context as data. It is read through one narrow, read-only
 * interface (`ContextReader`): in Lambda that is the AWS SDK, in a replay an account
 * snapshot file. Every lookup says whether it found the thing, found it absent, or could
 * not tell; "could not tell" makes the plan fail closed.
 */

export type Lookup<T> =
  | { status: 'found'; value: T }
  | { status: 'not-found' }
  | { status: 'unknown'; reason: string };

export const found = <T>(value: T): Lookup<T> => ({ status: 'found', value });
export const notFound = <T>(): Lookup<T> => ({ status: 'not-found' });
export const unknown = <T>(reason: string): Lookup<T> => ({ status: 'unknown', reason });

export interface NetworkInterfaceContext {
  networkInterfaceId: string;
  /** Security group ids attached to this interface now. */
  groups: string[];
  /** 0 is the primary interface. */
  deviceIndex?: number;
}

export interface VolumeContext {
  volumeId: string;
  deviceName?: string;
}

export interface StackMembership {
  stackName: string;
  stackId?: string;
  /** The instance's logical id in the stack (`aws:cloudformation:logical-id`). */
  logicalId?: string;
}

export interface InstanceContext {
  instanceId: string;
  /** pending | running | stopping | stopped | shutting-down | terminated */
  state: string;
  imageId?: string;
  keyName?: string;
  vpcId?: string;
  subnetId?: string;
  launchTime?: string;
  tags: Record<string, string>;
  networkInterfaces: NetworkInterfaceContext[];
  volumes: VolumeContext[];
  /** From `aws:autoscaling:groupName`. An Auto Scaling member is replaced by its group. */
  autoScalingGroup?: string;
  /** From the `aws:cloudformation:*` tags. */
  stack?: StackMembership;
  launchTemplate?: { id?: string; name?: string; version?: string };
  /** Target groups that list the instance (ARNs). */
  targetGroups?: string[];
  /** DisableApiTermination as it is now. */
  terminationProtection?: boolean;
  /** instanceInitiatedShutdownBehavior: stop | terminate */
  shutdownBehavior?: string;
  iamInstanceProfileArn?: string;
}

export interface SecurityGroupContext {
  groupId: string;
  groupName?: string;
  vpcId?: string;
  tags: Record<string, string>;
  stack?: StackMembership;
}

export interface ImageContext {
  imageId: string;
  ownerId?: string;
  /** ISO-8601 */
  creationDate?: string;
  name?: string;
}

/** Who last wrote a tag on a resource, read from CloudTrail (CreateTags). */
export interface TagWriter {
  /** The ARN of the caller (for an AssumedRole, the issuing role's ARN when known). */
  arn: string;
  time: string;
}

/** The narrow read-only interface through which context is read. */
export interface ContextReader {
  instance(instanceId: string): Promise<Lookup<InstanceContext>>;
  securityGroup(groupId: string): Promise<Lookup<SecurityGroupContext>>;
  image(imageId: string): Promise<Lookup<ImageContext>>;
  /** Every value under the SSM path where the golden-image pipeline publishes approved AMI ids. */
  approvedAmiIds(ssmPath: string): Promise<Lookup<string[]>>;
  /** Who last set `tagKey` on the resource (to check that an exemption was set by someone allowed to). */
  tagWriter(resourceId: string, tagKey: string): Promise<Lookup<TagWriter>>;
}

/** The context gathered for one event, handed to the pure core. */
export interface ResourceContext {
  instances: Record<string, Lookup<InstanceContext>>;
  securityGroups: Record<string, Lookup<SecurityGroupContext>>;
  images: Record<string, Lookup<ImageContext>>;
  /** Undefined when the policy names no SSM path. */
  approvedAmiIds?: Lookup<string[]>;
  /** Keyed `<resourceId>` for the exemption tag's writer. */
  exemptionWriters: Record<string, Lookup<TagWriter>>;
  /** The time the decision is made at (ISO-8601): the shell reads the clock, the core does not. */
  now: string;
}

export const emptyContext = (now: string): ResourceContext => ({
  instances: {},
  securityGroups: {},
  images: {},
  exemptionWriters: {},
  now,
});
