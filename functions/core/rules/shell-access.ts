import type { Finding, ShellAccess } from '../model';
import { actorLabel, findingId, instanceRefs, nothing } from './common';
import type { Rule, RuleInput, RuleResult } from './types';

const CHANNELS: Record<ShellAccess['channel'], string> = {
  'ssm-session': 'opened a Session Manager session on',
  'ssm-command': 'ran a command on',
  'instance-connect': 'pushed an SSH key with EC2 Instance Connect to',
  'serial-console': 'pushed an SSH key for the serial console of',
};

/**
 * shell-access (HIGH): a shell or command channel opened on instances by an actor the
 * policy does not trust: SSM StartSession, SSM SendCommand, EC2 Instance Connect
 * SendSSHPublicKey, and SendSerialConsoleSSHPublicKey.
 *
 * Why: whoever has a shell on an instance can change anything on it, and nothing in
 * CloudTrail says what. On immutable infrastructure an instance someone logged into is
 * tainted and is replaced. A trusted actor (an automation role the policy trusts) makes it
 * acceptable: the actor matters.
 *
 * A SendCommand that targets tags or resource groups names no instance: the finding then
 * names the targets so a human can see what it reached, and carries no instance resource
 * (nothing to isolate that the event can prove).
 */
export const shellAccess: Rule = {
  id: 'shell-access',
  severity: 'HIGH',
  description: 'A shell or command channel (Session Manager, Run Command, Instance Connect, serial console) opened by an untrusted actor.',
  defaultMode: 'replace',
  actorMatters: true,
  evaluate({ event, trust }: RuleInput): RuleResult {
    const change = event.change;
    if (change.kind !== 'shell-access' || trust.trusted) return nothing();
    const reached = [...change.instanceIds, ...(change.targets ?? [])];
    const where = reached.length > 0 ? reached.join(', ') : 'targets the event does not name';
    const as = change.osUser ? ` as ${change.osUser}` : '';
    const doc = change.documentName ? ` (${change.documentName})` : '';
    const finding: Finding = {
      id: findingId('shell-access', event),
      rule: 'shell-access',
      severity: 'HIGH',
      summary: `${actorLabel(event)} ${CHANNELS[change.channel]} ${where}${as}${doc}`,
      resources: instanceRefs(change.instanceIds),
    };
    return { findings: [finding] };
  },
};
