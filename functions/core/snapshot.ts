/**
 * The account snapshot: a JSON file that describes the resources of one account at one
 * time, and the `ContextReader` that answers from it. A replay reads context from a
 * snapshot instead of the AWS API, so that the same events give the same decisions on
 * any machine, with no credentials.
 *
 * Format (the zod schema below is the reference; the TypeScript type derives from it):
 *
 * ```json
 * {
 *   "accountId": "111122223333", "region": "eu-west-1", "capturedAt": "2026-11-20T09:00:00Z",
 *   "complete": true,
 *   "instances": [{ "instanceId": "i-…", "state": "running", "imageId": "ami-…", "tags": {…},
 *                   "networkInterfaces": [{ "networkInterfaceId": "eni-…", "groups": ["sg-…"], "deviceIndex": 0 }],
 *                   "volumes": [{ "volumeId": "vol-…", "deviceName": "/dev/xvda" }],
 *                   "autoScalingGroup": "…", "stack": { "stackName": "…", "logicalId": "…" },
 *                   "launchTemplate": { "id": "lt-…" }, "targetGroups": ["arn:…"],
 *                   "terminationProtection": false, "shutdownBehavior": "stop" }],
 *   "securityGroups": [{ "groupId": "sg-…", "groupName": "…", "vpcId": "vpc-…", "tags": {…} }],
 *   "images": [{ "imageId": "ami-…", "ownerId": "444455556666", "creationDate": "2026-11-12T03:00:00.000Z" }],
 *   "ssmParameters": { "/driftwarden/golden-amis/al2023": "ami-…" },
 *   "tagWriters": { "i-…": { "driftwarden:exempt-until": { "arn": "arn:…", "time": "…" } } },
 *   "unavailable": ["i-…", "approvedAmiIds"]
 * }
 * ```
 *
 * Absent from the snapshot means absent from the account ("not-found"), because a
 * snapshot normally lists everything. A snapshot that says `"complete": false` lists only
 * some resources: then absent means "unknown", and driftwarden fails closed.
 *
 * `unavailable` demonstrates failing closed: a lookup whose key is listed answers
 * "unknown", as if the API call had failed. Keys are an instance, group or image id; an
 * SSM path (or `approvedAmiIds` for every path); a resource id (every tag writer on it) or
 * `<resourceId>/<tagKey>` for one tag writer.
 *
 * When an instance gives no `autoScalingGroup` or `stack`, they are read from its
 * `aws:autoscaling:groupName` and `aws:cloudformation:*` tags, as the AWS reader does.
 */
import { readFileSync } from 'node:fs';
import { en } from 'zod/locales';
import * as z from 'zod/mini';
import type {
  ContextReader,
  ImageContext,
  InstanceContext,
  Lookup,
  SecurityGroupContext,
  StackMembership,
  TagWriter,
} from './context';
import { found, notFound, unknown } from './context';
import { InputError } from './errors';

/**
 * zod's English messages: `zod/mini` (used so that esbuild can drop the parts of zod this
 * file does not use) loads no locale, and would word every issue "Invalid input". Given per
 * parse, not through the global `z.config`, so that loading this module changes nothing else.
 */
const englishMessages: z.core.$ZodErrorMap = en().localeError;

// Descriptions use `.register(z.globalRegistry, …)` rather than `.check(z.describe(…))`,
// which would make every parsed snapshot share one default `{}` or `[]` (see policy/schema.ts).
const isoTime = z.iso.datetime({ offset: true });
const tags = z._default(z.record(z.string(), z.string()), {}).register(z.globalRegistry, { description: 'Tags, key → value.' });
const nonEmpty = () => z.string().check(z.minLength(1));
const arn = () => z.string().check(z.startsWith('arn:'));

const stackSchema = z.strictObject({
  stackName: nonEmpty(),
  stackId: z.optional(nonEmpty()),
  logicalId: z.optional(nonEmpty()),
});

const instanceSchema = z.strictObject({
  instanceId: z.string().check(z.regex(/^i-[0-9a-f]{8,17}$/, 'must be an instance id (i-…)')),
  state: z._default(z.enum(['pending', 'running', 'stopping', 'stopped', 'shutting-down', 'terminated']), 'running'),
  imageId: z.optional(z.string().check(z.regex(/^ami-[0-9a-f]{8,17}$/, 'must be an AMI id (ami-…)'))),
  keyName: z.optional(nonEmpty()),
  vpcId: z.optional(nonEmpty()),
  subnetId: z.optional(nonEmpty()),
  launchTime: z.optional(isoTime),
  tags,
  networkInterfaces: z._default(
    z.array(
      z.strictObject({
        networkInterfaceId: z.string().check(z.regex(/^eni-[0-9a-f]{8,17}$/, 'must be a network interface id (eni-…)')),
        groups: z._default(z.array(nonEmpty()), []),
        deviceIndex: z.optional(z.number().check(z.int(), z.nonnegative())),
      }),
    ),
    [],
  ),
  volumes: z._default(
    z.array(
      z.strictObject({
        volumeId: z.string().check(z.regex(/^vol-[0-9a-f]{8,17}$/, 'must be a volume id (vol-…)')),
        deviceName: z.optional(nonEmpty()),
      }),
    ),
    [],
  ),
  autoScalingGroup: z.optional(nonEmpty()),
  stack: z.optional(stackSchema),
  launchTemplate: z.optional(z.strictObject({ id: z.optional(nonEmpty()), name: z.optional(nonEmpty()), version: z.optional(nonEmpty()) })),
  targetGroups: z.optional(z.array(arn())),
  terminationProtection: z.optional(z.boolean()),
  shutdownBehavior: z.optional(z.enum(['stop', 'terminate'])),
  iamInstanceProfileArn: z.optional(arn()),
});

const securityGroupSchema = z.strictObject({
  groupId: z.string().check(z.regex(/^sg-[0-9a-f]{8,17}$/, 'must be a security group id (sg-…)')),
  groupName: z.optional(nonEmpty()),
  vpcId: z.optional(nonEmpty()),
  tags,
  stack: z.optional(stackSchema),
});

const imageSchema = z.strictObject({
  imageId: z.string().check(z.regex(/^ami-[0-9a-f]{8,17}$/, 'must be an AMI id (ami-…)')),
  ownerId: z.optional(z.string().check(z.regex(/^\d{12}$/, 'must be a 12-digit account id'))),
  creationDate: z.optional(isoTime),
  name: z.optional(nonEmpty()),
});

const tagWriterSchema = z.strictObject({ arn: arn(), time: isoTime });

export const accountSnapshotSchema = z
  .strictObject({
    $schema: z.optional(z.string()),
    description: z.optional(z.string()).register(z.globalRegistry, { description: 'What the snapshot shows, for humans.' }),
    accountId: z.string().check(z.regex(/^\d{12}$/, 'must be a 12-digit account id')),
    region: z.string().check(z.regex(/^[a-z]{2}(-[a-z]+)+-\d$/, 'must be a region such as eu-west-1')),
    capturedAt: z.optional(isoTime).register(z.globalRegistry, { description: 'When the snapshot was taken.' }),
    complete: z
      ._default(z.boolean(), true)
      .register(z.globalRegistry, { description: 'true: the snapshot lists every resource, so an absent one does not exist. false: absent means unknown. Default true.' }),
    instances: z._default(z.array(instanceSchema), []),
    securityGroups: z._default(z.array(securityGroupSchema), []),
    images: z._default(z.array(imageSchema), []),
    ssmParameters: z._default(z.record(z.string().check(z.startsWith('/')), z.string()), {}).register(z.globalRegistry, { description: 'SSM parameter name → value.' }),
    tagWriters: z
      ._default(z.record(nonEmpty(), z.record(nonEmpty(), tagWriterSchema)), {})
      .register(z.globalRegistry, { description: 'resourceId → tag key → who last wrote it.' }),
    unavailable: z._default(z.array(nonEmpty()), []).register(z.globalRegistry, { description: 'Lookups that answer "unknown", to show failing closed.' }),
  })
  .check(
    z.superRefine((snapshot, ctx) => {
      const checkUnique = (list: { id: string }[], path: string) => {
        const seen = new Set<string>();
        list.forEach(({ id }, index) => {
          if (seen.has(id)) ctx.addIssue({ code: 'custom', path: [path, index], message: `duplicate id ${id}` });
          seen.add(id);
        });
      };
      checkUnique(snapshot.instances.map((i) => ({ id: i.instanceId })), 'instances');
      checkUnique(snapshot.securityGroups.map((g) => ({ id: g.groupId })), 'securityGroups');
      checkUnique(snapshot.images.map((i) => ({ id: i.imageId })), 'images');
    }),
  );

/** An account snapshot, every default applied. */
export type AccountSnapshot = z.output<typeof accountSnapshotSchema>;
/** An account snapshot as written. */
export type AccountSnapshotInput = z.input<typeof accountSnapshotSchema>;

/** `instances[2].networkInterfaces[0].groups` */
function formatPath(path: PropertyKey[]): string {
  let out = '';
  for (const part of path) {
    if (typeof part === 'number') out += `[${part}]`;
    else out += out.length === 0 ? String(part) : `.${String(part)}`;
  }
  return out.length > 0 ? out : '(root)';
}

/** Validates a parsed snapshot; throws InputError naming every wrong field by its path. */
export function parseSnapshot(json: unknown, source = 'account snapshot'): AccountSnapshot {
  const result = accountSnapshotSchema.safeParse(json, { error: englishMessages });
  if (result.success) return result.data;
  const issues = result.error.issues.map((issue) => `${formatPath(issue.path)}: ${issue.message}`);
  throw new InputError(`The ${source} is not valid:\n  ${issues.join('\n  ')}`, { resource: source, issues });
}

/** Reads, parses and validates a snapshot file; throws InputError when it cannot. */
export function loadSnapshotFile(path: string): AccountSnapshot {
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (cause) {
    throw new InputError(`Cannot read the account snapshot ${path}: ${cause instanceof Error ? cause.message : String(cause)}`, { resource: path }, { cause });
  }
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch (cause) {
    throw new InputError(`The account snapshot ${path} is not JSON: ${cause instanceof Error ? cause.message : String(cause)}`, { resource: path }, { cause });
  }
  return parseSnapshot(json, `account snapshot ${path}`);
}

function stackFromTags(tagMap: Record<string, string>): StackMembership | undefined {
  const stackName = tagMap['aws:cloudformation:stack-name'];
  if (stackName === undefined) return undefined;
  const stack: StackMembership = { stackName };
  const stackId = tagMap['aws:cloudformation:stack-id'];
  const logicalId = tagMap['aws:cloudformation:logical-id'];
  if (stackId !== undefined) stack.stackId = stackId;
  if (logicalId !== undefined) stack.logicalId = logicalId;
  return stack;
}

/** Drops undefined fields, so that the context reads as the AWS reader's would. */
function defined<T extends object>(value: T): T {
  return Object.fromEntries(Object.entries(value).filter(([, v]) => v !== undefined)) as T;
}

/** A ContextReader that answers from an account snapshot. */
export class SnapshotContextReader implements ContextReader {
  private readonly instances: Map<string, InstanceContext>;
  private readonly groups: Map<string, SecurityGroupContext>;
  private readonly images: Map<string, ImageContext>;
  private readonly unavailable: Set<string>;

  constructor(readonly snapshot: AccountSnapshot) {
    this.unavailable = new Set(snapshot.unavailable);
    this.instances = new Map(
      snapshot.instances.map((i) => {
        const context: InstanceContext = defined({
          ...i,
          tags: { ...i.tags },
          networkInterfaces: i.networkInterfaces.map((n) => defined({ ...n, groups: [...n.groups] })),
          volumes: i.volumes.map((v) => defined({ ...v })),
          autoScalingGroup: i.autoScalingGroup ?? i.tags['aws:autoscaling:groupName'],
          stack: i.stack ?? stackFromTags(i.tags),
        });
        return [i.instanceId, context];
      }),
    );
    this.groups = new Map(
      snapshot.securityGroups.map((g) => [g.groupId, defined({ ...g, tags: { ...g.tags }, stack: g.stack ?? stackFromTags(g.tags) })]),
    );
    this.images = new Map(snapshot.images.map((i) => [i.imageId, defined({ ...i })]));
  }

  static fromFile(path: string): SnapshotContextReader {
    return new SnapshotContextReader(loadSnapshotFile(path));
  }

  /** found / unknown (listed as unavailable, or absent from an incomplete snapshot) / not-found. */
  private lookup<T>(what: string, key: string, value: T | undefined, unavailableKeys: string[] = [key]): Lookup<T> {
    if (unavailableKeys.some((k) => this.unavailable.has(k))) return unknown(`${what} ${key} is marked unavailable in the account snapshot`);
    if (value !== undefined) return found(structuredClone(value));
    if (!this.snapshot.complete) return unknown(`${what} ${key} is not in the account snapshot, which is marked incomplete`);
    return notFound();
  }

  async instance(instanceId: string): Promise<Lookup<InstanceContext>> {
    return this.lookup('instance', instanceId, this.instances.get(instanceId));
  }

  async securityGroup(groupId: string): Promise<Lookup<SecurityGroupContext>> {
    return this.lookup('security group', groupId, this.groups.get(groupId));
  }

  async image(imageId: string): Promise<Lookup<ImageContext>> {
    return this.lookup('image', imageId, this.images.get(imageId));
  }

  /**
   * Every value of every parameter at or under `ssmPath` (a StringList value counts as
   * its comma-separated items). No parameter under the path answers found([]) in a
   * complete snapshot, as GetParametersByPath would, and unknown in an incomplete one.
   */
  async approvedAmiIds(ssmPath: string): Promise<Lookup<string[]>> {
    if (this.unavailable.has('approvedAmiIds') || this.unavailable.has(ssmPath)) {
      return unknown(`SSM parameters under ${ssmPath} are marked unavailable in the account snapshot`);
    }
    const prefix = ssmPath.endsWith('/') ? ssmPath : `${ssmPath}/`;
    const exact = prefix.slice(0, -1);
    const names = Object.keys(this.snapshot.ssmParameters).filter((name) => name === exact || name.startsWith(prefix)).sort();
    if (names.length === 0 && !this.snapshot.complete) {
      return unknown(`no SSM parameter under ${ssmPath} is in the account snapshot, which is marked incomplete`);
    }
    const values = names.flatMap((name) =>
      this.snapshot.ssmParameters[name]!.split(',')
        .map((v) => v.trim())
        .filter((v) => v.length > 0),
    );
    return found([...new Set(values)]);
  }

  async tagWriter(resourceId: string, tagKey: string): Promise<Lookup<TagWriter>> {
    const key = `${resourceId}/${tagKey}`;
    return this.lookup('tag writer', key, this.snapshot.tagWriters[resourceId]?.[tagKey], [resourceId, key]);
  }
}
