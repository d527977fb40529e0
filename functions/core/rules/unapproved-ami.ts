import type { ResourceContext } from '../context';
import type { ChangeEvent, Finding, ResourceRef } from '../model';
import type { Policy } from '../policy/schema';
import { actorLabel, findingId, instanceRefs, launchSource, nothing, uniqueRefs } from './common';
import type { Rule, RuleInput, RuleResult } from './types';

const DAY_MS = 24 * 60 * 60 * 1000;

/** What is known about one image: approved, not approved (and why), or not knowable from the context. */
export type ImageVerdict =
  | { status: 'approved' }
  | { status: 'unapproved'; why: string }
  | { status: 'undetermined'; why: string };

/** True when the policy names at least one source of approved images. */
export function amiApprovalConfigured(policy: Policy): boolean {
  const a = policy.approvedAmis;
  return a.ids.length > 0 || a.owners.length > 0 || a.ssmParameterPath !== undefined;
}

/**
 * Whether `imageId` is an approved golden image for an instance launched at `launchedAt`.
 *
 * Approved = (listed in `approvedAmis.ids`, OR published under `approvedAmis.ssmParameterPath`,
 * OR owned by one of `approvedAmis.owners`) AND (no `maxAgeDays`, OR the image was created at
 * most `maxAgeDays` before the launch).
 *
 * Never guesses: when the answer hangs on context that could not be read (the SSM path,
 * the image's owner or creation date), the verdict is `undetermined` with the reason. A
 * definite answer from any one source is enough: an image in `ids` needs no SSM read, and
 * an image too old is unapproved whatever its owner.
 */
export function judgeImage(imageId: string, policy: Policy, context: ResourceContext, launchedAt: string): ImageVerdict {
  const a = policy.approvedAmis;
  const misses: string[] = [];
  const unknowns: string[] = [];
  let member = a.ids.includes(imageId);
  if (!member && a.ids.length > 0) misses.push('not in approvedAmis.ids');

  if (!member && a.ssmParameterPath !== undefined) {
    const published = context.approvedAmiIds;
    if (published === undefined) unknowns.push(`the approved AMI ids under ${a.ssmParameterPath} were not read`);
    else if (published.status === 'unknown') unknowns.push(`the approved AMI ids under ${a.ssmParameterPath} could not be read: ${published.reason}`);
    else if (published.status === 'found' && published.value.map((v) => v.trim()).includes(imageId)) member = true;
    else misses.push(`not published under ${a.ssmParameterPath}`);
  }

  const image = context.images[imageId];
  const imageUnreadable =
    image === undefined
      ? `${imageId} was not described`
      : image.status === 'unknown'
        ? `${imageId} could not be described: ${image.reason}`
        : image.status === 'not-found'
          ? `${imageId} was not found (deregistered or not visible)`
          : undefined;

  if (!member && a.owners.length > 0) {
    if (imageUnreadable) unknowns.push(`its owner is unknown: ${imageUnreadable}`);
    else if (image?.status === 'found' && image.value.ownerId === undefined) unknowns.push(`the owner of ${imageId} is not recorded`);
    else if (image?.status === 'found' && a.owners.includes(image.value.ownerId!)) member = true;
    else if (image?.status === 'found') misses.push(`owner ${image.value.ownerId} is not an approved owner`);
  }

  let age: { days: number } | { unknown: string } | undefined;
  if (a.maxAgeDays !== undefined) {
    const created = image?.status === 'found' ? Date.parse(image.value.creationDate ?? '') : Number.NaN;
    const at = Date.parse(launchedAt);
    if (imageUnreadable) age = { unknown: `its age is unknown: ${imageUnreadable}` };
    else if (Number.isNaN(created)) age = { unknown: `the creation date of ${imageId} is not recorded` };
    else if (Number.isNaN(at)) age = { unknown: `the launch time ${launchedAt} is not a time` };
    else age = { days: (at - created) / DAY_MS };
  }
  const tooOld = age !== undefined && 'days' in age && age.days > a.maxAgeDays!;
  const oldText = tooOld && age && 'days' in age ? `created ${Math.floor(age.days)} days before launch, over maxAgeDays ${a.maxAgeDays}` : '';

  if (tooOld) return { status: 'unapproved', why: member ? oldText : [...misses, oldText].join('; ') };
  if (!member && unknowns.length === 0) return { status: 'unapproved', why: misses.join('; ') };
  if (!member) return { status: 'undetermined', why: `cannot tell whether ${imageId} is approved: ${unknowns.join('; ')}` };
  if (age !== undefined && 'unknown' in age) return { status: 'undetermined', why: `${imageId} is approved, but ${age.unknown} (maxAgeDays ${a.maxAgeDays})` };
  return { status: 'approved' };
}

/**
 * unapproved-ami (HIGH): an instance launched from an image that is not an approved golden
 * image, or from a golden image older than `approvedAmis.maxAgeDays` at launch.
 *
 * Why: immutable infrastructure runs only images built and hardened by the image
 * pipeline. Anything else was built by hand, may be unpatched, and cannot be reproduced.
 * It is flagged WHOEVER launched it (the actor does not matter): a pipeline that launches an
 * unapproved image is misconfigured.
 *
 * Reads RunInstances (InstanceLaunch) and Config items of `AWS::EC2::Instance`. The
 * findings are launch-time findings: replacing the instance would launch the same image
 * again, so they are contained, never replaced, and name what launched it (launch
 * template, Auto Scaling group, stack, or the caller's RunInstances request) for a human
 * to fix. With no approved ids, owners or SSM path the rule says it is not configured;
 * when the answer depends on context that could not be read it says so, and never guesses.
 *
 * The age is measured at launch (the event's time, or the instance's recorded launch time
 * for a Config item), not at the time of judging, so a long-running instance does not turn
 * unapproved because its image aged, and a replay judges as the live system did.
 */
export const unapprovedAmi: Rule = {
  id: 'unapproved-ami',
  severity: 'HIGH',
  description: 'An instance launched from an image that is not an approved golden image (or is older than maxAgeDays), whoever launched it.',
  defaultMode: 'contain',
  actorMatters: false,
  evaluate({ event, policy, context }: RuleInput): RuleResult {
    const launch = launchOf(event, context);
    if (!launch) return nothing();
    if (!amiApprovalConfigured(policy)) {
      return {
        notConfigured: {
          rule: 'unapproved-ami',
          reason: 'No approved AMIs are configured: set approvedAmis.ids, approvedAmis.owners or approvedAmis.ssmParameterPath.',
        },
      };
    }

    const byImage = new Map<string, string[]>();
    const unnamed: string[] = [];
    for (const [instanceId, imageId] of launch.images) {
      if (imageId === undefined) unnamed.push(instanceId);
      else byImage.set(imageId, [...(byImage.get(imageId) ?? []), instanceId]);
    }
    if (launch.imageId !== undefined) byImage.set(launch.imageId, [...launch.instanceIds]);

    const unapproved: { imageId: string; instanceIds: string[]; why: string }[] = [];
    const undetermined: string[] = [];
    const undeterminedResources: ResourceRef[] = [];
    for (const [imageId, instanceIds] of byImage) {
      const verdict = judgeImage(imageId, policy, context, launch.launchedAt);
      if (verdict.status === 'unapproved') unapproved.push({ imageId, instanceIds, why: verdict.why });
      if (verdict.status === 'undetermined') {
        undetermined.push(verdict.why);
        undeterminedResources.push(...instanceRefs(instanceIds), { type: 'image', id: imageId });
      }
    }
    if (unnamed.length > 0) {
      undetermined.push(`the image of ${unnamed.join(', ')} is not in the event and its instance context could not be read`);
      undeterminedResources.push(...instanceRefs(unnamed));
    }

    const findings: Finding[] = [];
    if (unapproved.length > 0) {
      const instanceIds = launch.instanceIds;
      const source = launchSource(event, instanceIds, context, launch.template);
      const images = unapproved.map((u) => `${u.imageId} (${u.why})`).join(', ');
      const who = event.origin === 'config' ? '' : ` by ${actorLabel(event)}`;
      const templateRef: ResourceRef[] = launch.template?.id ? [{ type: 'launch-template', id: launch.template.id }] : [];
      findings.push({
        id: findingId('unapproved-ami', event),
        rule: 'unapproved-ami',
        severity: 'HIGH',
        summary: `${instanceIds.join(', ') || 'An instance'} launched${who} from unapproved image ${images}; fix ${source}`,
        resources: uniqueRefs([...instanceRefs(instanceIds), ...unapproved.map((u) => ({ type: 'image' as const, id: u.imageId })), ...templateRef]),
        launchTime: true,
        launchSource: source,
      });
    }
    if (undetermined.length === 0) return { findings };
    return { findings, undetermined: { reason: undetermined.join('; '), resources: uniqueRefs(undeterminedResources) } };
  },
};

interface LaunchView {
  instanceIds: string[];
  /** The image the launch names for every instance, when it names one. */
  imageId?: string;
  /** Each instance with its image (from the event, or from the instance's context). */
  images: [string, string | undefined][];
  template?: { id?: string; name?: string; version?: string };
  /** When the instances were launched: the age of an approved image is measured at this time. */
  launchedAt: string;
}

/** The launch an event shows, or undefined when it shows none. */
function launchOf(event: ChangeEvent, context: ResourceContext): LaunchView | undefined {
  const change = event.change;
  const contextImage = (id: string): string | undefined => {
    const lookup = context.instances[id];
    return lookup?.status === 'found' ? lookup.value.imageId : undefined;
  };
  if (change.kind === 'instance-launch') {
    return {
      instanceIds: change.instanceIds,
      imageId: change.imageId,
      images: change.imageId !== undefined ? [] : change.instanceIds.map((id) => [id, contextImage(id)]),
      template: change.launchTemplate,
      launchedAt: event.time,
    };
  }
  if (change.kind === 'config-item' && change.resourceType === 'AWS::EC2::Instance' && change.changeType !== 'DELETE') {
    const id = change.resourceId;
    const imageId = change.imageId ?? contextImage(id);
    const lookup = context.instances[id];
    const recordedLaunch = lookup?.status === 'found' ? lookup.value.launchTime : undefined;
    return {
      instanceIds: [id],
      imageId,
      images: imageId !== undefined ? [] : [[id, undefined]],
      launchedAt: recordedLaunch !== undefined && !Number.isNaN(Date.parse(recordedLaunch)) ? recordedLaunch : event.time,
    };
  }
  return undefined;
}
