import type { Finding, ResourceRef } from '../model';
import { actorLabel, findingId, instanceRefs, launchSource, nothing } from './common';
import type { Rule, RuleInput, RuleResult } from './types';

/**
 * ssh-key-material (MEDIUM): SSH key material entering the account or an instance:
 * - a key pair created or imported (CreateKeyPair, ImportKeyPair) by an actor the policy
 *   does not trust (the actor matters: a pipeline may manage key pairs);
 * - an instance launched with a key pair (RunInstances with KeyName, or a Config item
 *   that records a new instance with a key), WHOEVER launched it: a key baked into an
 *   instance is a standing way in, and immutable instances are reached through no shell.
 *
 * Launches with a key are launch-time findings: replacing the instance would launch it
 * with the same key again, so they are contained, never replaced, and name what launched
 * the instance (launch template, Auto Scaling group, stack, or the caller's request) for a
 * human to fix. `actorMatters` is true because the rule's own subject, the key pair,
 * is judged by actor; the launch half is not.
 */
export const sshKeyMaterial: Rule = {
  id: 'ssh-key-material',
  severity: 'MEDIUM',
  description: 'A key pair created or imported by an untrusted actor, or an instance launched with a key pair by anyone.',
  defaultMode: 'contain',
  actorMatters: true,
  evaluate({ event, context, trust }: RuleInput): RuleResult {
    const change = event.change;
    if (change.kind === 'key-pair') {
      if (trust.trusted) return nothing();
      const finding: Finding = {
        id: findingId('ssh-key-material', event),
        rule: 'ssh-key-material',
        severity: 'MEDIUM',
        summary: `${actorLabel(event)} ${change.operation === 'import' ? 'imported' : 'created'} key pair "${change.keyName}"`,
        resources: [{ type: 'key-pair', id: change.keyName }],
      };
      return { findings: [finding] };
    }

    let launched: { instanceIds: string[]; keyName: string; template?: { id?: string; name?: string; version?: string } } | undefined;
    if (change.kind === 'instance-launch' && change.keyName) {
      launched = { instanceIds: change.instanceIds, keyName: change.keyName, template: change.launchTemplate };
    } else if (change.kind === 'config-item' && change.resourceType === 'AWS::EC2::Instance' && change.changeType === 'CREATE' && change.keyName) {
      launched = { instanceIds: [change.resourceId], keyName: change.keyName };
    }
    if (!launched) return nothing();

    const source = launchSource(event, launched.instanceIds, context, launched.template);
    const who = event.origin === 'config' ? '' : ` by ${actorLabel(event)}`;
    const templateRef: ResourceRef[] = launched.template?.id ? [{ type: 'launch-template', id: launched.template.id }] : [];
    const finding: Finding = {
      id: findingId('ssh-key-material', event),
      rule: 'ssh-key-material',
      severity: 'MEDIUM',
      summary: `${launched.instanceIds.join(', ') || 'An instance'} launched${who} with key pair "${launched.keyName}"; fix ${source}`,
      resources: [...instanceRefs(launched.instanceIds), { type: 'key-pair', id: launched.keyName }, ...templateRef],
      launchTime: true,
      launchSource: source,
    };
    return { findings: [finding] };
  },
};
