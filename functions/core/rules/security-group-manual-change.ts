import type { Finding, SecurityGroupChange } from '../model';
import { describeRule } from '../net';
import { actorLabel, findingId, nothing } from './common';
import type { Rule, RuleInput, RuleResult } from './types';

const VERBS: Record<SecurityGroupChange['operation'], string> = {
  authorize: 'added',
  modify: 'modified',
  revoke: 'removed',
  describe: 'changed the descriptions of',
};

/**
 * security-group-manual-change (MEDIUM): any change to a security group's rules by an
 * actor the policy does not trust: rules added, modified or removed, or only their
 * descriptions changed.
 *
 * Why: on immutable infrastructure security groups are declared in templates and
 * changed by the pipeline. A hand-made change is drift, whatever it opens, and the next
 * deployment will silently undo or fight it. A trusted actor (the pipeline, CloudFormation
 * acting as a trusted role) makes the change acceptable: the actor matters.
 *
 * The finding names exactly the rules to revoke for additions and modifications (so
 * "contain" revokes them and nothing else). Removals and description changes have nothing
 * to revoke: the finding names the group and the plan can only observe them.
 */
export const securityGroupManualChange: Rule = {
  id: 'security-group-manual-change',
  severity: 'MEDIUM',
  description: 'A security-group rule added, modified, removed or redescribed by an untrusted actor.',
  defaultMode: 'observe',
  actorMatters: true,
  evaluate({ event, trust }: RuleInput): RuleResult {
    const change = event.change;
    if (change.kind !== 'security-group' || trust.trusted) return nothing();
    const revocable = change.operation === 'authorize' || change.operation === 'modify';
    const shown = change.rules.slice(0, 3).map(describeRule);
    const more = change.rules.length > 3 ? ` and ${change.rules.length - 3} more` : '';
    const count = change.rules.length === 1 ? '1 rule' : `${change.rules.length} rules`;
    const detail = shown.length > 0 ? `: ${shown.join('; ')}${more}` : '';
    const finding: Finding = {
      id: findingId('security-group-manual-change', event),
      rule: 'security-group-manual-change',
      severity: 'MEDIUM',
      summary: `${actorLabel(event)} ${VERBS[change.operation]} ${count} on ${change.groupId} by hand${detail}`,
      resources: [{ type: 'security-group', id: change.groupId }],
      ...(revocable && change.rules.length > 0 ? { offendingRules: [{ groupId: change.groupId, rules: [...change.rules] }] } : {}),
    };
    return { findings: [finding] };
  },
};
