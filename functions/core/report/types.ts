/**
 * The alert contract. `buildAlert` (alert.ts) is pure: the event, its plan and the step
 * outcomes in, one SNS message out (MessageStructure json).
 */
import type { Plan, StepOutcome } from '../decision';
import type { ChangeEvent } from '../model';

export type AlertKind = 'response' | 'replaced' | 'replacement-failed' | 'incomplete' | 'limit-reached' | 'summary' | 'tamper';

export interface AlertInput {
  kind: AlertKind;
  event: ChangeEvent;
  plan: Plan;
  /** Outcomes known when the alert is sent (steps still running are listed as deferred). */
  outcomes: StepOutcome[];
  /** Extra lines for follow-ups: "replaced i-old with i-new", the stack's failure reason. */
  details?: string[];
  /** The actor's trust verdict (from the classification); without it, only a `trusted` decision counts as trusted. */
  actorTrusted?: boolean;
  /**
   * How to exempt a resource, for the "release or exempt" section: the policy's exemption
   * tags and who may set them. Optional; the defaults of the policy schema are shown without it.
   */
  exemptions?: { tag: string; reasonTag: string; setters: string[]; maxDurationDays: number; pipelinePrincipals?: string[] };
}

export interface AlertMessage {
  /** One line, under 100 characters: severity, rule, resource, actor. */
  subject: string;
  /** JSON-encoded object with at least `default`, `email`, `sms`, and a versioned JSON document for other protocols. */
  message: string;
  /** SNS message attributes for filtering: severity, rule, account, region, action. */
  attributes: Record<string, { DataType: 'String'; StringValue: string }>;
}
