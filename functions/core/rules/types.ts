import type { ResourceContext } from '../context';
import type { ChangeEvent, Finding, NotConfigured, RuleId, Severity } from '../model';
import type { Mode, Policy } from '../policy/schema';
import type { TrustVerdict } from '../trust';

/** What a rule sees: the event, the policy, the context and the actor's trust verdict (all data). */
export interface RuleInput {
  event: ChangeEvent;
  policy: Policy;
  context: ResourceContext;
  trust: TrustVerdict;
}

/**
 * `findings`: what the rule found (possibly none). `undetermined`: the rule could not judge
 * because context it needs is unknown (say, the AMI could not be described); the plan fails
 * closed on it. `notConfigured`: the rule's configuration is missing; it never guesses.
 */
export type RuleResult =
  | { findings: Finding[]; undetermined?: { reason: string; resources: import('../model').ResourceRef[] } }
  | { notConfigured: NotConfigured };

export interface Rule {
  id: RuleId;
  severity: Severity;
  /** One sentence, for the README table and the alert. */
  description: string;
  defaultMode: Mode;
  /** Whether a trusted actor makes the change acceptable. */
  actorMatters: boolean;
  /** Pure: evaluate one successful (or, for attempted violations, failed) event. */
  evaluate(input: RuleInput): RuleResult;
}
