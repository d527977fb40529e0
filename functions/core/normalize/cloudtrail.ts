/**
 * One CloudTrail record → ChangeEvent.
 *
 * The record may come inside an EventBridge "AWS API Call via CloudTrail" event (then the
 * envelope supplies the account and region when the record lacks them), bare, or from a
 * CloudTrail log file in S3. Shapes follow what CloudTrail actually writes: EC2 lists as
 * `{items: [...]}`, lambda event names with API-version suffixes, CLI shorthand flattened
 * into requestParameters.
 */
import type { Change, ChangeEvent, ControlChange, NormalizeResult, Rejection, ResourceRef, ResourceType, ShellAccess } from '../model';
import { actorFrom } from './identity';
import { bool, collectStrings, field, isRecord, items, rec, redactCredentials, reject, str, strings, unique } from './guards';
import { modifyRequest, rulesFromRequest, withRuleIds } from './permissions';

/** What the EventBridge envelope adds, when the record came inside one. */
export interface Envelope {
  account?: string;
  region?: string;
}

const EC2 = 'ec2.amazonaws.com';
const SSM = 'ssm.amazonaws.com';
const INSTANCE_CONNECT = 'ec2-instance-connect.amazonaws.com';
const CLOUDTRAIL = 'cloudtrail.amazonaws.com';
const CONFIG = 'config.amazonaws.com';
const EVENTS = 'events.amazonaws.com';
const LAMBDA = 'lambda.amazonaws.com';

const ISO_TIME = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d{1,9})?(Z|[+-]\d{2}:?\d{2})$/;
const INSTANCE_ID = /^i-[0-9a-f]{8,17}$/;
const READ_ONLY_NAME = /^(Describe|Get|List|Lookup|Search|BatchGet)/;

/** Lambda records event names with the API version: `UpdateFunctionConfiguration20150331v2` → `UpdateFunctionConfiguration`. */
export function baseEventName(eventSource: string, eventName: string): string {
  if (eventSource !== LAMBDA) return eventName;
  const base = eventName.replace(/\d{8}(v\d+)?$/, '');
  return base.length > 0 ? base : eventName;
}

/** The resource type an AWS id names, from its prefix. */
export function resourceTypeOfId(id: string): ResourceType {
  if (id.startsWith('sg-')) return 'security-group';
  if (id.startsWith('i-')) return 'instance';
  if (id.startsWith('ami-')) return 'image';
  if (id.startsWith('lt-')) return 'launch-template';
  if (id.startsWith('key-')) return 'key-pair';
  if (id.startsWith('arn:aws:cloudformation:')) return 'stack';
  return 'other';
}

function refs(...groups: (ResourceRef | ResourceRef[] | undefined)[]): ResourceRef[] {
  const out: ResourceRef[] = [];
  const seen = new Set<string>();
  for (const group of groups) {
    for (const ref of group === undefined ? [] : Array.isArray(group) ? group : [group]) {
      const key = `${ref.type}:${ref.id}`;
      if (!seen.has(key)) {
        seen.add(key);
        out.push(ref);
      }
    }
  }
  return out;
}

const instanceRefs = (ids: string[]): ResourceRef[] => ids.map((id) => ({ type: 'instance', id }));

/** Every EC2 instance id named under an `instanceId`/`instanceIds`/`target` key in the request or response. */
function instanceIdsIn(...values: unknown[]): string[] {
  const isInstanceKey = (k: string) => /^(instanceids?|target)$/i.test(k);
  return unique(values.flatMap((v) => collectStrings(v, isInstanceKey, (s) => INSTANCE_ID.test(s))));
}

type Classified = { change: Change; resources: ResourceRef[] } | { missing: string };

const SG_OPERATIONS: Record<string, { operation: 'authorize' | 'revoke' | 'describe'; direction: 'ingress' | 'egress' }> = {
  AuthorizeSecurityGroupIngress: { operation: 'authorize', direction: 'ingress' },
  AuthorizeSecurityGroupEgress: { operation: 'authorize', direction: 'egress' },
  RevokeSecurityGroupIngress: { operation: 'revoke', direction: 'ingress' },
  RevokeSecurityGroupEgress: { operation: 'revoke', direction: 'egress' },
  UpdateSecurityGroupRuleDescriptionsIngress: { operation: 'describe', direction: 'ingress' },
  UpdateSecurityGroupRuleDescriptionsEgress: { operation: 'describe', direction: 'egress' },
};

function securityGroupChange(eventName: string, request: unknown, response: unknown): Classified {
  if (eventName === 'ModifySecurityGroupRules') {
    const { groupId, rules } = modifyRequest(request);
    if (groupId === undefined) return { missing: 'requestParameters.ModifySecurityGroupRulesRequest.GroupId' };
    return { change: { kind: 'security-group', groupId, operation: 'modify', rules }, resources: [{ type: 'security-group', id: groupId }] };
  }
  const op = SG_OPERATIONS[eventName]!;
  const rules = withRuleIds(rulesFromRequest(request, op.direction), response, op.direction);
  let groupId = str(request, 'groupId');
  let groupIdIsName = false;
  if (groupId === undefined) {
    // A call that names the group only by name (default VPC) keeps the name as its id, and says so.
    groupId = str(request, 'groupName');
    groupIdIsName = groupId !== undefined;
  }
  if (groupId === undefined) {
    const fromResponse = items(field(response, 'securityGroupRuleSet')).map((i) => str(i, 'groupId')).find((g) => g !== undefined);
    groupId = fromResponse;
  }
  if (groupId === undefined) return { missing: 'requestParameters.groupId' };
  return {
    change: { kind: 'security-group', groupId, operation: op.operation, rules, ...(groupIdIsName ? { groupIdIsName: true } : {}) },
    resources: [{ type: 'security-group', id: groupId }],
  };
}

function instanceLaunch(request: unknown, response: unknown): Classified {
  const launched = items(field(response, 'instancesSet'));
  const requested = items(field(request, 'instancesSet'));
  const instanceIds = unique(launched.map((i) => str(i, 'instanceId')).filter((s): s is string => s !== undefined));
  // The response names the AMI actually used (resolved from a launch template); the request what was asked for.
  const firstOf = (name: string) =>
    launched.map((i) => str(i, name)).find((s) => s !== undefined) ??
    requested.map((i) => str(i, name)).find((s) => s !== undefined) ??
    str(request, name);
  const imageId = firstOf('imageId');
  const keyName = firstOf('keyName');
  const template = rec(request, 'launchTemplate');
  const launchTemplate =
    template !== undefined
      ? Object.fromEntries(
          [
            ['id', str(template, 'launchTemplateId')],
            ['name', str(template, 'launchTemplateName')],
            ['version', str(template, 'version') ?? (typeof field(template, 'version') === 'number' ? String(field(template, 'version')) : undefined)],
          ].filter(([, v]) => v !== undefined),
        )
      : undefined;
  const change: Change = { kind: 'instance-launch', instanceIds };
  if (imageId !== undefined) change.imageId = imageId;
  if (keyName !== undefined) change.keyName = keyName;
  if (launchTemplate !== undefined && Object.keys(launchTemplate).length > 0) change.launchTemplate = launchTemplate;
  return {
    change,
    resources: refs(
      instanceRefs(instanceIds),
      imageId !== undefined ? { type: 'image', id: imageId } : undefined,
      launchTemplate?.id !== undefined ? { type: 'launch-template', id: launchTemplate.id } : undefined,
      keyName !== undefined ? { type: 'key-pair', id: keyName } : undefined,
    ),
  };
}

/** ModifyInstanceAttribute names the attribute by the request field it sets. */
const INSTANCE_ATTRIBUTES = [
  'instanceType',
  'userData',
  'groupSet',
  'disableApiTermination',
  'disableApiStop',
  'instanceInitiatedShutdownBehavior',
  'sourceDestCheck',
  'ebsOptimized',
  'enaSupport',
  'sriovNetSupport',
  'kernel',
  'ramdisk',
  'blockDeviceMapping',
];

const INSTANCE_CHANGE_ATTRIBUTE: Record<string, string> = {
  ModifyInstanceMetadataOptions: 'metadataOptions',
  AssociateIamInstanceProfile: 'iamInstanceProfile',
  ReplaceIamInstanceProfileAssociation: 'iamInstanceProfile',
  DisassociateIamInstanceProfile: 'iamInstanceProfile',
  AttachVolume: 'attachVolume',
  DetachVolume: 'detachVolume',
  AttachNetworkInterface: 'attachNetworkInterface',
  DetachNetworkInterface: 'detachNetworkInterface',
  StopInstances: 'stop',
  StartInstances: 'start',
  RebootInstances: 'reboot',
  ModifyInstancePlacement: 'placement',
};

function changedAttribute(eventName: string, request: unknown): string | undefined {
  if (eventName === 'ModifyInstanceAttribute' || eventName === 'ModifyNetworkInterfaceAttribute' || eventName === 'ResetInstanceAttribute') {
    const named = str(request, 'attribute');
    if (named !== undefined) return named;
    const known = INSTANCE_ATTRIBUTES.find((a) => field(request, a) !== undefined);
    if (known !== undefined) return known;
    const other = isRecord(request) ? Object.keys(request).find((k) => !/^(instanceId|networkInterfaceId)$/i.test(k)) : undefined;
    return other ?? (eventName === 'ModifyNetworkInterfaceAttribute' ? 'networkInterfaceAttribute' : undefined);
  }
  return INSTANCE_CHANGE_ATTRIBUTE[eventName];
}

function instanceChange(eventName: string, request: unknown, response: unknown): Classified {
  const instanceIds = instanceIdsIn(request, response);
  const related = unique([
    ...collectStrings(request, (k) => /^(volumeId|networkInterfaceId|attachmentId|associationId)$/i.test(k), () => true),
    ...collectStrings(response, (k) => /^(associationId)$/i.test(k), () => true),
    ...strings(field(request, 'groupSet'), 'groupId'),
    ...collectStrings(field(request, 'IamInstanceProfile', 'AssociateIamInstanceProfileRequest', 'ReplaceIamInstanceProfileAssociationRequest'), (k) => /^(arn|name)$/i.test(k), () => true),
  ]);
  const change: Change = { kind: 'instance-change', instanceIds };
  const attribute = changedAttribute(eventName, request);
  if (attribute !== undefined) change.attribute = attribute;
  if (related.length > 0) change.related = related;
  return { change, resources: instanceRefs(instanceIds) };
}

function shellAccess(eventSource: string, eventName: string, request: unknown, response: unknown): Classified {
  let channel: ShellAccess['channel'];
  const targets: string[] = [];
  let instanceIds: string[];
  if (eventSource === SSM && eventName === 'StartSession') {
    channel = 'ssm-session';
    instanceIds = instanceIdsIn(request);
  } else if (eventSource === SSM) {
    channel = 'ssm-command';
    const ids = [...strings(field(request, 'instanceIds'))];
    for (const target of items(field(request, 'targets'))) {
      const key = str(target, 'key', 'Key');
      const values = strings(field(target, 'values', 'Values'));
      if (key === undefined) continue;
      if (key.toLowerCase() === 'instanceids') ids.push(...values);
      else targets.push(`${key}=${values.join(',')}`);
    }
    // The response lists the instances the command was sent to, when SSM resolved them.
    ids.push(...strings(field(rec(response, 'command'), 'instanceIds')));
    instanceIds = unique(ids.filter((id) => INSTANCE_ID.test(id)));
  } else {
    channel = eventName === 'SendSerialConsoleSSHPublicKey' ? 'serial-console' : 'instance-connect';
    instanceIds = instanceIdsIn(request);
  }
  const change: ShellAccess = { kind: 'shell-access', instanceIds, channel };
  const documentName = str(request, 'documentName');
  if (documentName !== undefined) change.documentName = documentName;
  const osUser = str(request, 'instanceOSUser', 'osUser');
  if (osUser !== undefined) change.osUser = osUser;
  if (targets.length > 0) change.targets = targets;
  return { change, resources: instanceRefs(instanceIds) };
}

function keyPair(eventName: string, request: unknown): Classified {
  const keyName = str(request, 'keyName');
  if (keyName === undefined) return { missing: 'requestParameters.keyName' };
  return {
    change: { kind: 'key-pair', keyName, operation: eventName === 'ImportKeyPair' ? 'import' : 'create' },
    resources: [{ type: 'key-pair', id: keyName }],
  };
}

/** Tamper-relevant calls, and where each names its target. */
const CONTROL_CALLS: Record<string, Record<string, { service: string; target: (request: unknown) => string | undefined }>> = {
  [CLOUDTRAIL]: Object.fromEntries(
    ['StopLogging', 'DeleteTrail', 'UpdateTrail', 'PutEventSelectors', 'PutInsightSelectors'].map((n) => [
      n,
      { service: 'cloudtrail', target: (r: unknown) => str(r, 'name') ?? str(r, 'trailName') },
    ]),
  ),
  [CONFIG]: {
    StopConfigurationRecorder: { service: 'config', target: (r) => str(r, 'configurationRecorderName') },
    DeleteConfigurationRecorder: { service: 'config', target: (r) => str(r, 'configurationRecorderName') },
    DeleteDeliveryChannel: { service: 'config', target: (r) => str(r, 'deliveryChannelName') },
    PutConfigurationRecorder: { service: 'config', target: (r) => str(rec(r, 'configurationRecorder'), 'name') },
  },
  [EVENTS]: Object.fromEntries(
    ['DisableRule', 'DeleteRule', 'PutRule', 'RemoveTargets', 'PutTargets'].map((n) => [n, { service: 'events', target: (r: unknown) => str(r, 'name') ?? str(r, 'rule') }]),
  ),
  [LAMBDA]: Object.fromEntries(
    [
      'DeleteFunction',
      'UpdateFunctionConfiguration',
      'UpdateFunctionCode',
      'PutFunctionConcurrency',
      'DeleteFunctionConcurrency',
      'RemovePermission',
      'AddPermission',
    ].map((n) => [n, { service: 'lambda', target: (r: unknown) => str(r, 'functionName') }]),
  ),
  [SSM]: {
    PutParameter: { service: 'ssm', target: (r) => str(r, 'name') },
    DeleteParameter: { service: 'ssm', target: (r) => str(r, 'name') },
    DeleteParameters: { service: 'ssm', target: (r) => strings(field(r, 'names'))[0] },
  },
};

function controlChange(eventSource: string, eventName: string, rawEventName: string, request: unknown): Classified | undefined {
  if (eventSource === EC2 && (eventName === 'CreateTags' || eventName === 'DeleteTags')) {
    const resourceIds = unique(strings(field(request, 'resourcesSet'), 'resourceId'));
    const tagSet = items(field(request, 'tagSet'));
    const tagKeys = unique(tagSet.map((t) => str(t, 'key')).filter((k): k is string => k !== undefined));
    const change: ControlChange = { kind: 'control', service: 'tags', tagKeys, resourceIds };
    if (eventName === 'CreateTags') {
      const tags: Record<string, string> = {};
      for (const t of tagSet) {
        const key = str(t, 'key');
        const value = field(t, 'value');
        if (key !== undefined) tags[key] = typeof value === 'string' ? value : '';
      }
      change.details = { tags };
    }
    return { change, resources: resourceIds.map((id) => ({ type: resourceTypeOfId(id), id })) };
  }
  const call = CONTROL_CALLS[eventSource]?.[eventName];
  if (call === undefined) return undefined;
  const target = call.target(request);
  const change: ControlChange = { kind: 'control', service: call.service };
  if (target !== undefined) change.target = target;
  const details: Record<string, unknown> = {};
  if (rawEventName !== eventName) details['rawEventName'] = rawEventName;
  const names = strings(field(request, 'names'));
  if (names.length > 1) details['names'] = names;
  const eventBusName = str(request, 'eventBusName');
  if (eventBusName !== undefined) details['eventBusName'] = eventBusName;
  const state = str(request, 'state');
  if (state !== undefined) details['state'] = state;
  if (Object.keys(details).length > 0) change.details = details;
  return { change, resources: target !== undefined ? [{ type: resourceTypeOfId(target), id: target }] : [] };
}

const INSTANCE_CHANGE_EVENTS = new Set([
  'ModifyInstanceAttribute',
  'ResetInstanceAttribute',
  'ModifyNetworkInterfaceAttribute',
  ...Object.keys(INSTANCE_CHANGE_ATTRIBUTE),
]);

function classify(eventSource: string, eventName: string, rawEventName: string, request: unknown, response: unknown): Classified {
  if (eventSource === EC2) {
    if (eventName in SG_OPERATIONS || eventName === 'ModifySecurityGroupRules') return securityGroupChange(eventName, request, response);
    if (eventName === 'RunInstances') return instanceLaunch(request, response);
    if (INSTANCE_CHANGE_EVENTS.has(eventName)) return instanceChange(eventName, request, response);
    if (eventName === 'CreateKeyPair' || eventName === 'ImportKeyPair') return keyPair(eventName, request);
  }
  if ((eventSource === SSM && (eventName === 'StartSession' || eventName === 'SendCommand')) ||
      (eventSource === INSTANCE_CONNECT && (eventName === 'SendSSHPublicKey' || eventName === 'SendSerialConsoleSSHPublicKey'))) {
    return shellAccess(eventSource, eventName, request, response);
  }
  const control = controlChange(eventSource, eventName, rawEventName, request);
  if (control !== undefined) return control;
  return { change: { kind: 'other' }, resources: [] };
}

/** ISO-8601 UTC, or undefined when the text is not a time. Times already in UTC are kept as written. */
export function isoTime(value: unknown): string | undefined {
  if (typeof value !== 'string' || !ISO_TIME.test(value)) return undefined;
  const ms = Date.parse(value);
  if (!Number.isFinite(ms)) return undefined;
  return value.endsWith('Z') ? value : new Date(ms).toISOString();
}

/** True when the value has the fields that identify a CloudTrail record. */
export function looksLikeCloudTrailRecord(value: unknown): boolean {
  return isRecord(value) && typeof value['eventName'] === 'string' && typeof value['eventSource'] === 'string' && ('eventVersion' in value || 'userIdentity' in value);
}

/** Where an event keeps its CloudTrail record until `raw` is first read (a non-enumerable own property). */
const RECORD = Symbol('driftwarden.cloudtrailRecord');

type PendingRaw = ChangeEvent & { [RECORD]: unknown };

/** `raw` as a plain data property from now on (after its first read or write): enumerable, writable, as a literal's. */
function settleRaw(event: ChangeEvent, value: unknown): void {
  Object.defineProperty(event, 'raw', { value, writable: true, enumerable: true, configurable: true });
  // The record is no longer needed (kept as a property, so the event keeps its shape).
  (event as PendingRaw)[RECORD] = undefined;
}

/**
 * The accessor every CloudTrail event's `raw` starts as: the same two functions for every
 * event. Per-event closures (a getter in each event's literal) made every event a map of its
 * own, held through an old-space accessor pair: each scavenge then promoted the events and
 * their records (about a third of a replay worker's time went to the garbage collector).
 */
const LAZY_RAW: PropertyDescriptor = {
  enumerable: true,
  configurable: true,
  get(this: PendingRaw): unknown {
    const raw = redactCredentials(this[RECORD]);
    settleRaw(this, raw);
    return raw;
  },
  set(this: PendingRaw, value: unknown) {
    settleRaw(this, value);
  },
};

/**
 * Gives `event` its `raw` record, credentials redacted, for the audit trail. Most events never
 * reach it (a replay of an archive is mostly noise), so the redacted copy is made on first read.
 */
function withLazyRaw(event: ChangeEvent, record: unknown): void {
  Object.defineProperty(event, RECORD, { value: record, writable: true, enumerable: false, configurable: true });
  Object.defineProperty(event, 'raw', LAZY_RAW);
}

/** No EventBridge envelope (a record from a log file): one shared value, not one per record. */
const NO_ENVELOPE: Envelope = Object.freeze({});

/** The ids a rejection names: built only when a record is rejected, not for every record. */
const idsOf = (eventId: string | undefined, eventName: string | undefined): { eventId?: string; eventName?: string } => ({
  ...(eventId !== undefined ? { eventId } : {}),
  ...(eventName !== undefined ? { eventName } : {}),
});

function missingField(path: string, eventId: string | undefined, eventName: string | undefined): Rejection {
  return reject('missing-field', `The CloudTrail record has no ${path}.`, idsOf(eventId, eventName));
}

export function normalizeCloudTrailRecord(record: unknown, envelope: Envelope = NO_ENVELOPE): NormalizeResult {
  if (!isRecord(record)) return reject('not-an-object', 'The CloudTrail record is not a JSON object.');
  const eventId = str(record, 'eventID');
  const rawEventName = str(record, 'eventName');

  if (eventId === undefined) return missingField('eventID', eventId, rawEventName);
  if (rawEventName === undefined) return missingField('eventName', eventId, rawEventName);
  const eventSource = str(record, 'eventSource');
  if (eventSource === undefined) return missingField('eventSource', eventId, rawEventName);
  if (record['eventTime'] === undefined) return missingField('eventTime', eventId, rawEventName);
  const time = isoTime(record['eventTime']);
  if (time === undefined) return reject('invalid-field', `The CloudTrail record's eventTime is not an ISO-8601 time: ${JSON.stringify(record['eventTime'])?.slice(0, 60)}.`, idsOf(eventId, rawEventName));
  if (!isRecord(record['userIdentity'])) return missingField('userIdentity (an object)', eventId, rawEventName);
  const region = str(record, 'awsRegion') ?? envelope.region;
  if (region === undefined) return missingField('awsRegion', eventId, rawEventName);
  const accountId = str(record, 'recipientAccountId') ?? envelope.account ?? str(record['userIdentity'], 'accountId');
  if (accountId === undefined) return missingField('recipientAccountId', eventId, rawEventName);

  const eventName = baseEventName(eventSource, rawEventName);
  const request = record['requestParameters'];
  const response = record['responseElements'];
  const classified = classify(eventSource, eventName, rawEventName, request, response);
  if ('missing' in classified) return missingField(classified.missing, eventId, rawEventName);

  const errorCode = str(record, 'errorCode');
  const readOnly = bool(record, 'readOnly') ?? READ_ONLY_NAME.test(eventName);

  const event = {
    id: eventId,
    origin: 'cloudtrail',
    eventSource,
    eventName,
    time,
    accountId,
    region,
    actor: actorFrom(record),
    readOnly,
    resources: classified.resources,
    change: classified.change,
  } as ChangeEvent;
  withLazyRaw(event, record);
  if (errorCode !== undefined) {
    // Looked up only for a failed call: an absent field costs a case-insensitive pass over every key.
    const errorMessage = str(record, 'errorMessage');
    event.failure = errorMessage !== undefined ? { errorCode, errorMessage } : { errorCode };
  }
  return { rejected: false, event };
}

