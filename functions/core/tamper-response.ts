/**
 * What driftwarden does about a `driftwarden-tamper` finding in contain or replace mode:
 * undo what can be undone safely, and tell a human exactly what cannot. Pure: the event,
 * the finding, the context and the policy in; steps, warnings and human actions out.
 *
 * - Tags (`driftwarden:*`, CreateTags/DeleteTags by an untrusted actor) → one `revert-tags`
 *   step per instance or security group:
 *   - a key the actor SET is deleted (exactly that key, never another tag); except that
 *     when the context was read before the change (a replay against an older snapshot) and
 *     shows a different value, that previous value is put back instead; and except that a
 *     quarantine-bookkeeping key (the quarantine mark, reason, time, original groups, hold
 *     marks) set on a resource that other quarantine marks show was already quarantined is
 *     left alone: deleting it could release the instance or lose the record that release
 *     needs, and its previous value cannot be known. A human is asked to check it.
 *   - a key the actor DELETED is put back: with the value the DeleteTags request named,
 *     else the value the context last read, else, for the quarantine mark, with
 *     `restored-by-driftwarden:<event id>`, so the resource stays marked quarantined and no
 *     later change to it makes driftwarden act on it again (no loops). A deleted exemption
 *     is not restored (without it driftwarden is only stricter); any other key whose value
 *     is unknown is left to a human.
 * - CloudTrail StopLogging → `restore-logging` (StartLogging on the trail the call named);
 *   AWS Config StopConfigurationRecorder → `restore-logging` (StartConfigurationRecorder).
 *   Deleting or reconfiguring a trail, a recorder or a delivery channel cannot be undone
 *   without the settings it had: the human actions say exactly what to restore.
 * - Anything else the rule finds (driftwarden's EventBridge rules, functions, SSM
 *   parameters) is reported for a human to restore, as before.
 *
 * Fail closed: a part that needs context that could not be read is not planned, and is
 * named in `held`. Restoring a deleted quarantine mark needs no context: the mark only ever
 * makes driftwarden do less.
 */
import type { Lookup, InstanceContext, ResourceContext, SecurityGroupContext } from './context';
import type { RestoreLoggingStep, RevertTagsStep } from './decision';
import type { ChangeEvent, ControlChange, Finding } from './model';
import { field, items, rec, str } from './normalize/guards';
import type { Policy } from './policy/schema';
import { baseEventName, resourceTypeOf } from './rules/common';

export interface TamperResponse {
  steps: (RevertTagsStep | RestoreLoggingStep)[];
  warnings: string[];
  humanActions: string[];
  /** Parts not planned because context they need could not be read (fail closed). */
  held: string[];
}

/** The value a deleted quarantine mark is restored with when its old value is unknowable. */
export const restoredMarkValue = (eventId: string): string => `restored-by-driftwarden:${eventId}`;

const TAG_PREFIX = 'driftwarden:';
/** Tags driftwarden writes when it quarantines an instance (functions/aws/instances.ts TAG). */
const BOOKKEEPING_KEYS = [
  'driftwarden:reason',
  'driftwarden:quarantined-at',
  'driftwarden:original-groups',
  'driftwarden:protection-set',
  'driftwarden:original-shutdown-behavior',
];
const ORIGINAL_GROUPS_CHUNK = /^driftwarden:original-groups-\d+$/;

const SERVICE_BY_SOURCE: Record<string, string> = {
  'cloudtrail.amazonaws.com': 'cloudtrail',
  'config.amazonaws.com': 'config',
};

export function planTamperResponse(event: ChangeEvent, finding: Finding, context: ResourceContext, policy: Policy): TamperResponse {
  const response: TamperResponse = { steps: [], warnings: [], humanActions: [], held: [] };
  const change = event.change;
  if (change.kind !== 'control') {
    response.humanActions.push(`Restore what was changed: ${finding.summary}`);
    return response;
  }
  const name = baseEventName(event.eventName);
  const service = change.service.trim().toLowerCase() || SERVICE_BY_SOURCE[event.eventSource] || '';
  if (service === 'cloudtrail') return trailResponse(name, change, finding, response);
  if (service === 'config') return recorderResponse(name, change, finding, response);
  if (service === 'tags' && (name === 'CreateTags' || name === 'DeleteTags')) return tagResponse(name, event, change, finding, context, policy, response);
  response.humanActions.push(`Restore what was changed: ${finding.summary}`);
  return response;
}

function trailResponse(name: string, change: ControlChange, finding: Finding, response: TamperResponse): TamperResponse {
  const trail = change.target?.trim();
  const named = trail ? `trail ${trail}` : 'the trail (the call did not name it)';
  switch (name) {
    case 'StopLogging':
      if (!trail) {
        response.humanActions.push('Start CloudTrail logging again: the StopLogging call named no trail driftwarden could restart.');
        break;
      }
      response.steps.push({
        action: 'restore-logging',
        service: 'cloudtrail',
        resource: trail,
        findingId: finding.id,
        reason: `Start CloudTrail logging again on ${named}: ${finding.summary}. Without it driftwarden sees no API calls.`,
      });
      break;
    case 'DeleteTrail':
      response.humanActions.push(
        `Recreate CloudTrail ${named} from its template (S3 bucket, KMS key, multi-region and organization settings, log file validation) and start logging: a deleted trail cannot be restored automatically.`,
      );
      break;
    case 'UpdateTrail':
      response.humanActions.push(`Restore the settings of CloudTrail ${named} from its template: UpdateTrail can redirect its logs or narrow it to one region.`);
      break;
    case 'PutEventSelectors':
      response.humanActions.push(`Restore the event selectors of CloudTrail ${named} (management events, read and write): PutEventSelectors can stop it from recording the calls driftwarden reacts to.`);
      break;
    default:
      response.humanActions.push(`Restore what was changed: ${finding.summary}`);
  }
  return response;
}

function recorderResponse(name: string, change: ControlChange, finding: Finding, response: TamperResponse): TamperResponse {
  const target = change.target?.trim();
  switch (name) {
    case 'StopConfigurationRecorder':
      if (!target) {
        response.humanActions.push('Start the AWS Config recorder again: the StopConfigurationRecorder call named no recorder driftwarden could restart.');
        break;
      }
      response.steps.push({
        action: 'restore-logging',
        service: 'config',
        resource: target,
        findingId: finding.id,
        reason: `Start AWS Config recorder ${target} again: ${finding.summary}. Without it driftwarden misses configuration changes.`,
      });
      break;
    case 'DeleteConfigurationRecorder':
      response.humanActions.push(
        `Recreate the AWS Config recorder${target ? ` ${target}` : ''} (its role and a recording group that includes EC2 instances and security groups), then start it: a deleted recorder cannot be restored automatically.`,
      );
      break;
    case 'DeleteDeliveryChannel':
      response.humanActions.push(`Recreate the AWS Config delivery channel${target ? ` ${target}` : ''} (S3 bucket, SNS topic, delivery frequency): without one the recorder cannot record.`);
      break;
    case 'PutConfigurationRecorder':
      response.humanActions.push(`Restore the AWS Config recorder${target ? ` ${target}` : ''} from its template: PutConfigurationRecorder can stop it from recording EC2 instances and security groups.`);
      break;
    default:
      response.humanActions.push(`Restore what was changed: ${finding.summary}`);
  }
  return response;
}

/**
 * The values a DeleteTags request named (`tagSet.items[].value`): such a call deletes the
 * tag only when its value matches, and the value is what to restore. The model carries the
 * keys only (ControlChange.tagKeys), so the values are read from the CloudTrail record
 * kept in `raw`, defensively: anything that is not a string is "not named".
 */
export function deletedTagValues(event: ChangeEvent): Record<string, string> {
  const raw = event.raw;
  const record = rec(raw, 'detail') ?? raw;
  const values: Record<string, string> = {};
  for (const item of items(field(field(record, 'requestParameters'), 'tagSet'))) {
    const key = str(item, 'key');
    const value = field(item, 'value');
    if (key !== undefined && typeof value === 'string') values[key] = value;
  }
  return values;
}

function isBookkeeping(key: string, policy: Policy): boolean {
  return key === policy.quarantineTag || BOOKKEEPING_KEYS.includes(key) || ORIGINAL_GROUPS_CHUNK.test(key);
}

type TagLookup = Lookup<InstanceContext | SecurityGroupContext> | undefined;

function lookupOf(context: ResourceContext, id: string): TagLookup {
  const type = resourceTypeOf(id);
  return type === 'instance' ? context.instances[id] : type === 'security-group' ? context.securityGroups[id] : undefined;
}

function tagResponse(
  name: 'CreateTags' | 'DeleteTags',
  event: ChangeEvent,
  change: ControlChange,
  finding: Finding,
  context: ResourceContext,
  policy: Policy,
  response: TamperResponse,
): TamperResponse {
  // The rule matches the prefix case-insensitively; EC2 tag keys are case-sensitive, so the
  // keys are reverted exactly as the call wrote them.
  const keys = [...new Set((change.tagKeys ?? []).filter((k) => k.trim().toLowerCase().startsWith(TAG_PREFIX)))];
  const exemptionKeys = new Set([policy.exemptions.tag, policy.exemptions.reasonTag]);
  const setValues = (change.details?.['tags'] ?? {}) as Record<string, unknown>;
  const namedValues = name === 'DeleteTags' ? deletedTagValues(event) : {};
  const resources = [...new Set(change.resourceIds ?? [])];
  if (keys.length === 0 || resources.length === 0) {
    response.humanActions.push(`Restore what was changed: ${finding.summary}`);
    return response;
  }

  for (const id of resources) {
    const type = resourceTypeOf(id);
    if (type !== 'instance' && type !== 'security-group') {
      response.humanActions.push(`Check ${keys.join(', ')} on ${id} by hand: driftwarden reverts its tags on instances and security groups only.`);
      continue;
    }
    const lookup = lookupOf(context, id);
    if (lookup?.status === 'not-found' || (lookup?.status === 'found' && 'state' in lookup.value && ['terminated', 'shutting-down'].includes(lookup.value.state))) {
      response.warnings.push(`${id} no longer exists: no tag to revert on it.`);
      continue;
    }
    const tags = lookup?.status === 'found' ? lookup.value.tags : undefined;
    const unreadable = lookup?.status === 'unknown' ? lookup.reason : `${type === 'instance' ? 'instance' : 'security group'} ${id} was not looked up`;

    const remove: string[] = [];
    const restore: { key: string; value: string }[] = [];
    const why: string[] = [];

    if (name === 'CreateTags') {
      // Quarantined before this call: a quarantine mark the call did not itself write.
      const quarantinedBefore = tags !== undefined && Object.keys(tags).some((k) => isBookkeeping(k, policy) && !keys.includes(k));
      for (const key of keys) {
        const previous = tags?.[key];
        const written = typeof setValues[key] === 'string' ? (setValues[key] as string) : undefined;
        if (previous !== undefined && written !== undefined && previous !== written) {
          restore.push({ key, value: previous });
          why.push(`${key} back to "${previous}", its value before the change`);
        } else if (isBookkeeping(key, policy) && tags === undefined) {
          response.held.push(`cannot read ${id} (${unreadable}): whether it was quarantined before is unknown, so ${key} is not removed`);
        } else if (isBookkeeping(key, policy) && quarantinedBefore) {
          response.humanActions.push(
            `Check ${key} on ${id}: ${finding.summary} on a resource driftwarden had quarantined; its previous value cannot be known, so it was left as it is${key === policy.quarantineTag ? ' (removing it would release the instance)' : ''}. Check it before any release.`,
          );
        } else {
          remove.push(key);
        }
      }
      if (remove.length > 0) why.unshift(`delete ${remove.join(', ')}, which ${event.actor.name || 'an untrusted actor'} added`);
    } else {
      const otherMarks = tags !== undefined && Object.keys(tags).some((k) => isBookkeeping(k, policy) && k !== policy.quarantineTag);
      for (const key of keys) {
        const named = namedValues[key];
        const current = tags?.[key];
        if (named !== undefined) {
          if (current !== undefined && current !== named) {
            response.warnings.push(`${key} on ${id} still has another value ("${current}"): the DeleteTags, which named "${named}", deleted nothing.`);
            continue;
          }
          restore.push({ key, value: named });
          why.push(`${key}="${named}" (the value the DeleteTags call named)`);
        } else if (current !== undefined) {
          restore.push({ key, value: current });
          why.push(`${key}="${current}" (its value as last read)`);
        } else if (key === policy.quarantineTag) {
          const value = restoredMarkValue(event.id);
          restore.push({ key, value });
          why.push(
            `${key}="${value}": its old value (the finding id) is unknown, but ${otherMarks ? 'the other driftwarden marks show it was quarantined' : tags === undefined ? `${id} could not be read (${unreadable})` : 'no other driftwarden mark remains'}; it stays marked quarantined so that no later change to it makes driftwarden act on it again`,
          );
          if (!otherMarks) {
            response.humanActions.push(
              `Confirm that ${id} was quarantined: driftwarden restored ${key} without ${tags === undefined ? 'being able to read it' : 'any other driftwarden mark on it'}. If it never was, release it (driftwarden release), since a quarantine mark stops driftwarden from acting on it.`,
            );
          }
        } else if (exemptionKeys.has(key)) {
          response.warnings.push(`${key} was deleted from ${id}: not restored, since without an exemption driftwarden is only stricter.`);
        } else {
          response.humanActions.push(`Restore ${key} on ${id} by hand: the DeleteTags call did not name its value and driftwarden could not read it.`);
        }
      }
    }

    if (remove.length === 0 && restore.length === 0) continue;
    response.steps.push({
      action: 'revert-tags',
      resource: id,
      findingId: finding.id,
      remove,
      restore,
      reason: `Revert driftwarden's tags on ${id}: ${why.join('; ')}. ${finding.summary}; only these keys are touched.`,
    });
  }
  return response;
}
