/**
 * Instance helpers shared by isolate, terminate and release: reading one instance, and
 * the quarantine tags driftwarden writes on it (the record that release reads back).
 */
import { DescribeInstancesCommand, type EC2Client, type Instance } from '@aws-sdk/client-ec2';
import { hasErrorName } from './aws-errors';

export const TAG = {
  quarantined: 'driftwarden:quarantined',
  reason: 'driftwarden:reason',
  quarantinedAt: 'driftwarden:quarantined-at',
  originalGroups: 'driftwarden:original-groups',
  /** Set only when driftwarden itself turned termination protection on. */
  protectionSet: 'driftwarden:protection-set',
  /** The shutdown behaviour before the forensic hold set it to `stop`. */
  originalShutdownBehavior: 'driftwarden:original-shutdown-behavior',
  isolation: 'driftwarden:isolation',
  untrack: 'driftwarden:untrack',
} as const;

/** EC2 tag values are at most 256 characters. */
export const TAG_VALUE_MAX = 256;

/** The instance, or undefined when it does not exist (InvalidInstanceID.NotFound or no reservation). */
export async function describeInstance(ec2: EC2Client, instanceId: string): Promise<Instance | undefined> {
  try {
    const res = await ec2.send(new DescribeInstancesCommand({ InstanceIds: [instanceId] }));
    return res.Reservations?.flatMap((r) => r.Instances ?? []).find((i) => i.InstanceId === instanceId);
  } catch (err) {
    if (hasErrorName(err, 'InvalidInstanceID.NotFound')) return undefined;
    throw err;
  }
}

export type OriginalGroups = Record<string, string[]>;

/**
 * Encodes the groups of each interface as tags: `driftwarden:original-groups` when the
 * JSON fits one tag value, else split over `driftwarden:original-groups-1..n`.
 */
export function encodeOriginalGroups(groups: OriginalGroups): { Key: string; Value: string }[] {
  const json = JSON.stringify(groups);
  if (json.length <= TAG_VALUE_MAX) return [{ Key: TAG.originalGroups, Value: json }];
  const tags: { Key: string; Value: string }[] = [];
  for (let i = 0; i * TAG_VALUE_MAX < json.length; i++) {
    tags.push({ Key: `${TAG.originalGroups}-${i + 1}`, Value: json.slice(i * TAG_VALUE_MAX, (i + 1) * TAG_VALUE_MAX) });
  }
  return tags;
}

/** Whether a tag key is one of the original-groups tags. */
export function isOriginalGroupsKey(key: string): boolean {
  return key === TAG.originalGroups || new RegExp(`^${TAG.originalGroups}-\\d+$`).test(key);
}

/** Reads the record back; undefined when there is none or it does not parse. */
export function decodeOriginalGroups(tags: Record<string, string>): OriginalGroups | undefined {
  let json = tags[TAG.originalGroups];
  if (json === undefined) {
    const parts: string[] = [];
    for (let i = 1; tags[`${TAG.originalGroups}-${i}`] !== undefined; i++) parts.push(tags[`${TAG.originalGroups}-${i}`]!);
    if (parts.length === 0) return undefined;
    json = parts.join('');
  }
  try {
    const parsed = JSON.parse(json) as unknown;
    if (!parsed || typeof parsed !== 'object' || Array.isArray(parsed)) return undefined;
    const out: OriginalGroups = {};
    for (const [eni, groups] of Object.entries(parsed as Record<string, unknown>)) {
      if (!Array.isArray(groups) || !groups.every((g) => typeof g === 'string')) return undefined;
      out[eni] = groups as string[];
    }
    return out;
  } catch {
    return undefined;
  }
}
