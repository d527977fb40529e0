import type { ChangeEvent, ControlChange, Finding, ResourceRef } from '../model';
import type { Policy } from '../policy/schema';
import { actorArns, matchesAny } from '../trust';
import { actorLabel, baseEventName, findingId, nothing, resourceTypeOf, uniqueRefs } from './common';
import type { Rule, RuleInput, RuleResult } from './types';

/** Calls that blind the trail, whatever the trail: driftwarden sees only what CloudTrail records. */
const TRAIL_CALLS = new Set(['StopLogging', 'DeleteTrail', 'UpdateTrail', 'PutEventSelectors']);
/**
 * Calls that blind AWS Config, whatever the recorder. PutConfigurationRecorder is included:
 * it can narrow the recorded resource types to exclude EC2, which blinds Config as surely
 * as stopping it.
 */
const CONFIG_CALLS = new Set(['StopConfigurationRecorder', 'DeleteConfigurationRecorder', 'DeleteDeliveryChannel', 'PutConfigurationRecorder']);
/** EventBridge calls that stop or redirect the events driftwarden's rules deliver. */
const EVENTS_CALLS = new Set(['DisableRule', 'DeleteRule', 'PutRule', 'RemoveTargets', 'PutTargets']);
/** SSM calls that write or remove a parameter (the kill switch, the golden-image list). */
const SSM_CALLS = new Set(['PutParameter', 'DeleteParameter', 'DeleteParameters', 'LabelParameterVersion']);
const TAG_CALLS = new Set(['CreateTags', 'DeleteTags']);

const PREFIX = 'driftwarden';
/** driftwarden's own resource names: `driftwarden*`, and the deployment hook, which CodeDeploy's default role only invokes under the name `CodeDeployHook_*`. */
const isDriftwardenName = (name: string): boolean => {
  const short = shortName(name).toLowerCase();
  return short.startsWith(PREFIX) || short.startsWith(`codedeployhook_${PREFIX}`);
};
const TAG_PREFIX = 'driftwarden:';
const PARAMETER_PREFIX = '/driftwarden/';

const SERVICE_BY_SOURCE: Record<string, string> = {
  'cloudtrail.amazonaws.com': 'cloudtrail',
  'config.amazonaws.com': 'config',
  'events.amazonaws.com': 'events',
  'lambda.amazonaws.com': 'lambda',
  'ssm.amazonaws.com': 'ssm',
};

/**
 * driftwarden-tamper (CRITICAL): an actor the policy does not trust weakens driftwarden or
 * what it watches:
 * - CloudTrail: StopLogging, DeleteTrail, UpdateTrail, PutEventSelectors (any trail);
 * - AWS Config: StopConfigurationRecorder, DeleteConfigurationRecorder,
 *   DeleteDeliveryChannel, PutConfigurationRecorder (any recorder);
 * - EventBridge: DisableRule, DeleteRule, PutRule, RemoveTargets, PutTargets on a rule
 *   named `driftwarden*`;
 * - Lambda: any change to a function named `driftwarden*` (code, configuration,
 *   concurrency, permissions, deletion);
 * - SSM: writing or deleting a parameter under `/driftwarden/` (the kill switch
 *   `/driftwarden/kill-switch`, the golden-image list) or under the policy's
 *   `approvedAmis.ssmParameterPath`;
 * - EC2 CreateTags/DeleteTags of any `driftwarden:*` tag key (removing a quarantine
 *   tag, forging a quarantine or exemption). Setting only the exemption tags is not
 *   tampering when the actor is an allowed exemption setter (`exemptions.setters`):
 *   that is the documented break-glass path.
 *
 * Why: an attacker's first move against an enforcement system is to blind or disarm it.
 * Each of these calls either stops driftwarden from seeing changes, stops it from acting,
 * or lets changes through unseen. The pipeline that deploys driftwarden is trusted (the
 * actor matters), and driftwarden's own calls never count.
 */
export const driftwardenTamper: Rule = {
  id: 'driftwarden-tamper',
  severity: 'CRITICAL',
  description: "Tampering with driftwarden's functions, rules, kill switch or tags, or with CloudTrail or AWS Config, by an untrusted actor.",
  defaultMode: 'contain',
  actorMatters: true,
  evaluate({ event, policy, trust }: RuleInput): RuleResult {
    const change = event.change;
    if (change.kind !== 'control' || trust.trusted) return nothing();
    const tampered = tamperedWith(event, change, policy);
    if (!tampered) return nothing();
    const finding: Finding = {
      id: findingId('driftwarden-tamper', event),
      rule: 'driftwarden-tamper',
      severity: 'CRITICAL',
      summary: `${actorLabel(event)} ${tampered.what}`,
      resources: tampered.resources,
    };
    return { findings: [finding] };
  },
};

interface Tampered {
  /** Completes "<actor> …": "stopped CloudTrail logging on trail management". */
  what: string;
  resources: ResourceRef[];
}

function serviceOf(event: ChangeEvent, change: ControlChange): string {
  const service = change.service.trim().toLowerCase();
  return service || SERVICE_BY_SOURCE[event.eventSource] || '';
}

/** The last segment of an ARN-shaped name (`arn:…:rule/bus/name` → `name`), else the text itself. */
function shortName(text: string): string {
  const trimmed = text.trim();
  if (trimmed.includes(':function:')) return trimmed.split(':function:')[1]!.split(':')[0]!;
  if (trimmed.startsWith('arn:')) return trimmed.slice(trimmed.lastIndexOf('/') + 1);
  return trimmed;
}

/** An SSM parameter name from a name or an ARN (`arn:…:parameter/driftwarden/x` → `/driftwarden/x`). */
function parameterName(text: string): string {
  const trimmed = text.trim();
  const arn = /^arn:[^:]+:ssm:[^:]*:[^:]*:parameter(\/.*)$/.exec(trimmed);
  return arn ? arn[1]! : trimmed;
}

/** Every name the change carries: its target, its resource ids, and the `names` of a batch call (DeleteParameters). */
function named(change: ControlChange): string[] {
  const batch = change.details?.['names'];
  const names = Array.isArray(batch) ? batch : [];
  return [...new Set([change.target, ...(change.resourceIds ?? []), ...names])].filter((v): v is string => typeof v === 'string' && v.trim().length > 0);
}

function tamperedWith(event: ChangeEvent, change: ControlChange, policy: Policy): Tampered | undefined {
  const name = baseEventName(event.eventName);
  const service = serviceOf(event, change);
  const other = (id: string): ResourceRef => ({ type: 'other', id });

  if (service === 'cloudtrail' && TRAIL_CALLS.has(name)) {
    const trail = change.target ?? 'a trail';
    const verb: Record<string, string> = {
      StopLogging: `stopped CloudTrail logging on ${trail}`,
      DeleteTrail: `deleted CloudTrail trail ${trail}`,
      UpdateTrail: `changed CloudTrail trail ${trail}`,
      PutEventSelectors: `changed the event selectors of CloudTrail trail ${trail}`,
    };
    return { what: verb[name]!, resources: named(change).map(other) };
  }
  if (service === 'config' && CONFIG_CALLS.has(name)) {
    return { what: `called config:${name}${change.target ? ` on ${change.target}` : ''}, which can stop AWS Config from recording`, resources: named(change).map(other) };
  }
  if (service === 'events' && EVENTS_CALLS.has(name)) {
    const rules = named(change).filter(isDriftwardenName);
    if (rules.length === 0) return undefined;
    return { what: `called events:${name} on driftwarden's EventBridge rule ${rules.map(shortName).join(', ')}`, resources: rules.map(other) };
  }
  if (service === 'lambda') {
    const functions = named(change).filter(isDriftwardenName);
    if (functions.length === 0) return undefined;
    return { what: `called lambda:${name} on driftwarden's function ${functions.map(shortName).join(', ')}`, resources: functions.map(other) };
  }
  if (service === 'ssm' && SSM_CALLS.has(name)) {
    const goldenPath = policy.approvedAmis.ssmParameterPath;
    const guarded = (p: string): boolean => p.startsWith(PARAMETER_PREFIX) || (goldenPath !== undefined && (p === goldenPath || p.startsWith(goldenPath.endsWith('/') ? goldenPath : `${goldenPath}/`)));
    const parameters = [...new Set(named(change).map(parameterName))].filter(guarded);
    if (parameters.length === 0) return undefined;
    const verb = name === 'PutParameter' ? 'wrote' : name === 'LabelParameterVersion' ? 'relabelled' : 'deleted';
    return { what: `${verb} driftwarden's SSM parameter ${parameters.join(', ')}`, resources: parameters.map(other) };
  }
  if (service === 'tags' || (event.eventSource === 'ec2.amazonaws.com' && TAG_CALLS.has(name))) {
    const keys = (change.tagKeys ?? []).filter((k) => k.trim().toLowerCase().startsWith(TAG_PREFIX));
    if (keys.length === 0) return undefined;
    if (isBreakGlass(event, keys, policy)) return undefined;
    const resources = (change.resourceIds ?? []).map((id) => ({ type: resourceTypeOf(id), id }));
    const verb = name === 'DeleteTags' ? 'removed' : 'set';
    const on = resources.length > 0 ? ` ${name === 'DeleteTags' ? 'from' : 'on'} ${resources.map((r) => r.id).join(', ')}` : '';
    return { what: `${verb} driftwarden tag ${keys.join(', ')}${on}`, resources: uniqueRefs(resources) };
  }
  return undefined;
}

/** Setting only the exemption tags, by an allowed exemption setter, is the break-glass path. */
function isBreakGlass(event: ChangeEvent, keys: string[], policy: Policy): boolean {
  const exemptionKeys = [policy.exemptions.tag, policy.exemptions.reasonTag];
  const onlyExemption = keys.every((k) => exemptionKeys.includes(k.trim()));
  const allowed = [...policy.exemptions.setters, ...policy.trust.pipelinePrincipals];
  return onlyExemption && allowed.length > 0 && matchesAny(actorArns(event.actor), allowed);
}
