/**
 * Small helpers the rules share: finding ids, naming actors and launch sources, resource
 * lists. Pure.
 */
import type { ResourceContext } from '../context';
import type { ChangeEvent, InstanceLaunch, ResourceRef, ResourceType, RuleId } from '../model';
import type { RuleResult } from './types';

/** Deterministic finding id: `<rule>:<event id>` (also the ClientRequestToken seed and the quarantine tag). */
export function findingId(rule: RuleId, event: ChangeEvent): string {
  return `${rule}:${event.id}`;
}

/** The result of a rule that found nothing (a fresh value each time: callers may extend it). */
export const nothing = (): RuleResult => ({ findings: [] });

/** How a summary names who did it: the short name, or the ARN when there is no name. */
export function actorLabel(event: ChangeEvent): string {
  return event.actor.name || event.actor.arn || 'an unknown actor';
}

/** The resource type an AWS id belongs to, read from its prefix. */
export function resourceTypeOf(id: string): ResourceType {
  if (id.startsWith('sg-')) return 'security-group';
  if (id.startsWith('i-')) return 'instance';
  if (id.startsWith('ami-')) return 'image';
  if (id.startsWith('lt-')) return 'launch-template';
  if (id.startsWith('key-')) return 'key-pair';
  return 'other';
}

export const instanceRefs = (ids: readonly string[]): ResourceRef[] => ids.map((id) => ({ type: 'instance', id }));

/** The same list without repeats (by type and id), order kept. */
export function uniqueRefs(refs: readonly ResourceRef[]): ResourceRef[] {
  const seen = new Set<string>();
  return refs.filter((r) => {
    const key = `${r.type}\u0000${r.id}`;
    if (seen.has(key)) return false;
    seen.add(key);
    return true;
  });
}

/** "lt-0abc (version 3)", "launch template web (version $Latest)". */
function describeTemplate(template: { id?: string; name?: string; version?: string }): string | undefined {
  const named = template.id ?? template.name;
  if (!named) return undefined;
  const version = template.version ? ` (version ${template.version})` : '';
  return `launch template ${named}${template.name && template.id ? ` "${template.name}"` : ''}${version}`;
}

/**
 * What launched an instance, for launch-time findings: the thing a human must fix, since
 * replacing the instance would launch the same image or key again. In order: the launch
 * template the request used (or that the instance records), the Auto Scaling group, the
 * CloudFormation stack, and otherwise the caller's own RunInstances request.
 */
export function launchSource(
  event: ChangeEvent,
  instanceIds: readonly string[],
  context: ResourceContext,
  template?: InstanceLaunch['launchTemplate'],
): string {
  const instances = instanceIds
    .map((id) => context.instances[id])
    .flatMap((lookup) => (lookup && lookup.status === 'found' ? [lookup.value] : []));
  const templateText = describeTemplate(template ?? {}) ?? instances.map((i) => (i.launchTemplate ? describeTemplate(i.launchTemplate) : undefined)).find(Boolean);
  const group = instances.map((i) => i.autoScalingGroup).find(Boolean);
  const stack = instances.map((i) => i.stack?.stackName).find(Boolean);
  const parts: string[] = [];
  if (templateText) parts.push(templateText);
  if (group) parts.push(`${templateText ? 'of ' : ''}Auto Scaling group ${group}`);
  if (stack) parts.push(`${templateText || group ? 'in ' : ''}stack ${stack}`);
  if (parts.length > 0) return parts.join(' ');
  if (event.origin === 'config') return `the launch request of ${instanceIds.join(', ') || 'the instance'} (not recorded in the Config item)`;
  return "the caller's RunInstances request";
}

/** Strip the API version suffix Lambda adds to CloudTrail event names (`UpdateFunctionCode20150331v2`). */
export function baseEventName(eventName: string): string {
  return eventName.replace(/\d{8}(v\d+)?$/, '');
}
