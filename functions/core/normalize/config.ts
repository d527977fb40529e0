/**
 * AWS Config "Configuration Item Change" → ChangeEvent.
 *
 * A Config item shows a resource's state, not who changed it: the actor is always
 * unknown. For a security group the item's configuration gives the current rules, and
 * `configurationItemDiff.changedProperties` (keys like `Configuration.IpPermissions.0`)
 * shows which are new. An item too large for EventBridge arrives as an
 * `OversizedConfigurationItemChangeNotification` with only a summary and the S3 location
 * of the full item: it is normalized with `oversized: true` and no rules, and says so.
 */
import type { ChangeEvent, ConfigItemChange, NormalizeResult, ResourceRef, SgRule } from '../model';
import { CONFIG_ACTOR } from './identity';
import { field, isRecord, items, rec, redactCredentials, reject, str, type JsonRecord } from './guards';
import type { Envelope } from './cloudtrail';
import { isoTime } from './cloudtrail';
import { ruleKey, rulesFromPermission } from './permissions';

export const CONFIG_EVENT_SOURCE = 'config.amazonaws.com';
export const CONFIG_EVENT_NAME = 'ConfigurationItemChange';
export const OVERSIZED_MESSAGE_TYPE = 'OversizedConfigurationItemChangeNotification';

/** Config's change type, or, without a diff, what the item status implies. */
function changeTypeOf(explicit: string | undefined, status: string): string {
  if (explicit !== undefined) return explicit;
  if (status === 'ResourceDiscovered') return 'CREATE';
  if (status === 'ResourceDeleted' || status === 'ResourceDeletedNotRecorded') return 'DELETE';
  return 'UPDATE';
}

/** The tags of an item: Config's `tags` map, or the configuration's `tags: [{key, value}]`. */
function tagsOf(item: JsonRecord, configuration: JsonRecord | undefined): Record<string, string> | undefined {
  const out: Record<string, string> = {};
  const map = rec(item, 'tags');
  if (map !== undefined) {
    for (const [k, v] of Object.entries(map)) if (typeof v === 'string') out[k] = v;
  }
  for (const t of items(field(configuration, 'tags'))) {
    const key = str(t, 'key', 'Key');
    const value = field(t, 'value', 'Value');
    if (key !== undefined && !(key in out)) out[key] = typeof value === 'string' ? value : '';
  }
  return Object.keys(out).length > 0 ? out : undefined;
}

function securityGroupRules(configuration: JsonRecord | undefined): SgRule[] {
  return [
    ...items(field(configuration, 'ipPermissions')).flatMap((p) => rulesFromPermission(p, 'ingress')),
    ...items(field(configuration, 'ipPermissionsEgress')).flatMap((p) => rulesFromPermission(p, 'egress')),
  ];
}

const PERMISSION_PROPERTY = /^Configuration\.IpPermissions(Egress)?(\.\d+)?$/i;

/**
 * Rules present after the change that were absent before, from the diff's changed
 * properties. Config indexes permissions by position, so inserting one shifts the rest:
 * the before and after sets are compared as a whole, per direction, not index by index.
 * Undefined when the item carries no diff.
 */
function addedRulesOf(diff: JsonRecord | undefined, changeType: string, rules: SgRule[]): SgRule[] | undefined {
  if (changeType === 'CREATE') return rules;
  const changed = rec(diff, 'changedProperties');
  if (changed === undefined) return undefined;
  const before = new Set<string>();
  const after: SgRule[] = [];
  for (const [key, property] of Object.entries(changed)) {
    const match = PERMISSION_PROPERTY.exec(key);
    if (match === null || !isRecord(property)) continue;
    const direction = match[1] !== undefined ? 'egress' : 'ingress';
    for (const p of items(property['previousValue'])) for (const r of rulesFromPermission(p, direction)) before.add(ruleKey(r));
    for (const p of items(property['updatedValue'])) after.push(...rulesFromPermission(p, direction));
  }
  const seen = new Set<string>();
  return after.filter((r) => {
    const key = ruleKey(r);
    if (before.has(key) || seen.has(key)) return false;
    seen.add(key);
    return true;
  });
}

function resourceRefsOf(resourceType: string, resourceId: string, imageId?: string): ResourceRef[] {
  const refs: ResourceRef[] = [];
  if (resourceType === 'AWS::EC2::SecurityGroup') refs.push({ type: 'security-group', id: resourceId });
  else if (resourceType === 'AWS::EC2::Instance') refs.push({ type: 'instance', id: resourceId });
  else if (resourceType === 'AWS::EC2::LaunchTemplate') refs.push({ type: 'launch-template', id: resourceId });
  else if (resourceType === 'AWS::CloudFormation::Stack') refs.push({ type: 'stack', id: resourceId });
  else refs.push({ type: 'other', id: resourceId });
  if (imageId !== undefined) refs.push({ type: 'image', id: imageId });
  return refs;
}

/** `detail` of a "Config Configuration Item Change" event (or the same notification bare). */
export function normalizeConfigDetail(detail: unknown, envelope: Envelope & { time?: string } = {}): NormalizeResult {
  if (!isRecord(detail)) return reject('not-an-object', 'The Config notification is not a JSON object.');
  const oversized = str(detail, 'messageType') === OVERSIZED_MESSAGE_TYPE;
  const itemPath = oversized ? 'configurationItemSummary' : 'configurationItem';
  const item = rec(detail, itemPath);
  if (item === undefined) return reject('missing-field', `The Config notification has no ${itemPath}.`);

  const resourceType = str(item, 'resourceType');
  const resourceId = str(item, 'resourceId');
  if (resourceType === undefined) return reject('missing-field', `The Config notification has no ${itemPath}.resourceType.`);
  if (resourceId === undefined) return reject('missing-field', `The Config notification has no ${itemPath}.resourceId.`);
  const stateIdValue = field(item, 'configurationStateId');
  const stateId = typeof stateIdValue === 'number' && Number.isFinite(stateIdValue) ? String(stateIdValue) : str(stateIdValue);
  const captureTimeValue = field(item, 'configurationItemCaptureTime');
  const captureTime = isoTime(captureTimeValue);
  if (captureTimeValue !== undefined && captureTime === undefined) {
    return reject('invalid-field', `The Config notification's ${itemPath}.configurationItemCaptureTime is not an ISO-8601 time.`);
  }
  const version = stateId ?? captureTime;
  if (version === undefined) return reject('missing-field', `The Config notification has neither ${itemPath}.configurationStateId nor configurationItemCaptureTime.`);
  const time = captureTime ?? isoTime(field(detail, 'notificationCreationTime')) ?? isoTime(envelope.time);
  if (time === undefined) return reject('missing-field', 'The Config notification has no capture or notification time.');
  const accountId = str(item, 'awsAccountId') ?? envelope.account;
  if (accountId === undefined) return reject('missing-field', `The Config notification has no ${itemPath}.awsAccountId.`);
  const region = str(item, 'awsRegion') ?? envelope.region;
  if (region === undefined) return reject('missing-field', `The Config notification has no ${itemPath}.awsRegion.`);

  const status = str(item, 'configurationItemStatus') ?? 'unknown';
  const diff = rec(detail, 'configurationItemDiff');
  const changeType = changeTypeOf(str(oversized ? item : diff, 'changeType'), status);

  const change: ConfigItemChange = { kind: 'config-item', resourceType, resourceId, changeType, status, oversized };
  if (!oversized) {
    const configuration = rec(item, 'configuration');
    if (resourceType === 'AWS::EC2::SecurityGroup' && configuration !== undefined) {
      change.rules = securityGroupRules(configuration);
      const added = addedRulesOf(diff, changeType, change.rules);
      if (added !== undefined) change.addedRules = added;
    }
    if (resourceType === 'AWS::EC2::Instance' && configuration !== undefined) {
      const imageId = str(configuration, 'imageId');
      const keyName = str(configuration, 'keyName');
      if (imageId !== undefined) change.imageId = imageId;
      if (keyName !== undefined) change.keyName = keyName;
    }
    const tags = tagsOf(item, configuration);
    if (tags !== undefined) change.tags = tags;
  }

  const event: ChangeEvent = {
    id: `config:${resourceId}:${version}`,
    origin: 'config',
    eventSource: CONFIG_EVENT_SOURCE,
    eventName: CONFIG_EVENT_NAME,
    time,
    accountId,
    region,
    actor: { ...CONFIG_ACTOR },
    readOnly: false,
    resources: resourceRefsOf(resourceType, resourceId, change.imageId),
    change,
    raw: redactCredentials(detail),
  };
  return { rejected: false, event };
}
