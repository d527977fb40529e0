import type { Finding, ResourceRef } from '../model';
import { actorLabel, findingId, instanceRefs, nothing, resourceTypeOf, uniqueRefs } from './common';
import type { Rule, RuleInput, RuleResult } from './types';

/**
 * instance-manual-change (HIGH): an in-place change to a running instance by an actor the
 * policy does not trust: ModifyInstanceAttribute (instance type, user data, groups,
 * termination protection…), ModifyInstanceMetadataOptions, instance-profile
 * association changes, volume and network-interface attach/detach, network-interface
 * attribute changes, stop/start/reboot, placement changes, attribute resets.
 *
 * Why: an immutable instance is never changed in place; it is replaced from its template.
 * An instance changed by hand no longer matches what was deployed, may carry a backdoor
 * (user data, an instance profile, a new interface), and cannot be trusted again. A trusted
 * actor (the pipeline, or CloudFormation acting as a trusted role) makes the change
 * acceptable: the actor matters.
 */
export const instanceManualChange: Rule = {
  id: 'instance-manual-change',
  severity: 'HIGH',
  description: 'An in-place change to an instance (attributes, profile, volumes, interfaces, stop/start) by an untrusted actor.',
  defaultMode: 'replace',
  actorMatters: true,
  evaluate({ event, trust }: RuleInput): RuleResult {
    const change = event.change;
    if (change.kind !== 'instance-change' || trust.trusted) return nothing();
    const what = change.attribute ? `changed ${change.attribute} of` : `called ${event.eventName} on`;
    const targets = change.instanceIds.length > 0 ? change.instanceIds.join(', ') : 'an instance the event does not name';
    const related = change.related && change.related.length > 0 ? ` (${change.related.join(', ')})` : '';
    const relatedRefs: ResourceRef[] = (change.related ?? []).map((id) => ({ type: resourceTypeOf(id), id }));
    const finding: Finding = {
      id: findingId('instance-manual-change', event),
      rule: 'instance-manual-change',
      severity: 'HIGH',
      summary: `${actorLabel(event)} ${what} ${targets} in place${related}`,
      resources: uniqueRefs([...instanceRefs(change.instanceIds), ...relatedRefs.filter((r) => r.type !== 'instance')]),
    };
    return { findings: [finding] };
  },
};
