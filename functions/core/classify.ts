/**
 * Classification: which rules one event breaks. Pure: the event, the policy and the
 * context in; the actor's trust verdict and the rules' findings out.
 *
 * - driftwarden's own calls (trust.self) never produce findings, whatever the rule, so it
 *   never reacts to its own containment;
 * - read-only calls produce none;
 * - rules whose mode is `off` are not evaluated;
 * - a failed call (CloudTrail errorCode) changed nothing: it is judged as if it had
 *   succeeded, and what it would have broken is reported as an attempt (severity LOW,
 *   summary "Attempted: …") when `attemptedViolations.report` is on, otherwise not at all.
 *   Undetermined context does not matter for a call that changed nothing, so a failed
 *   call never reports any;
 * - a rule that throws (a bug) does not take the others down: it is reported as
 *   undetermined, so the plan fails closed and says why.
 */
import type { ResourceContext } from './context';
import type { ChangeEvent, Finding, NotConfigured, ResourceRef, RuleId } from './model';
import type { Policy } from './policy/schema';
import { RULES } from './rules';
import type { Rule } from './rules/types';
import { evaluateTrust, type TrustVerdict } from './trust';

export interface Classification {
  trust: TrustVerdict;
  findings: Finding[];
  notConfigured: NotConfigured[];
  undetermined: { rule: RuleId; reason: string; resources: ResourceRef[] }[];
  /** True when the call failed (errorCode): nothing changed, findings are attempts. */
  attempted: boolean;
}

export const ATTEMPTED_PREFIX = 'Attempted: ';

export function classify(event: ChangeEvent, policy: Policy, context: ResourceContext, rules: readonly Rule[] = RULES): Classification {
  const trust = evaluateTrust(event.actor, policy);
  const attempted = event.failure !== undefined;
  const result: Classification = { trust, findings: [], notConfigured: [], undetermined: [], attempted };
  if (trust.self || event.readOnly) return result;

  for (const rule of rules) {
    if (policy.rules[rule.id].mode === 'off') continue;
    let outcome;
    try {
      outcome = rule.evaluate({ event, policy, context, trust });
    } catch (error) {
      result.undetermined.push({
        rule: rule.id,
        reason: `rule ${rule.id} failed to evaluate: ${error instanceof Error ? error.message : String(error)}`,
        resources: event.resources,
      });
      continue;
    }
    if ('notConfigured' in outcome) {
      result.notConfigured.push(outcome.notConfigured);
      continue;
    }
    result.findings.push(...outcome.findings);
    if (outcome.undetermined) result.undetermined.push({ rule: rule.id, ...outcome.undetermined });
  }

  if (attempted) {
    result.undetermined = [];
    result.findings = policy.attemptedViolations.report ? result.findings.map(asAttempt) : [];
  }
  return result;
}

function asAttempt(finding: Finding): Finding {
  return {
    ...finding,
    severity: 'LOW',
    summary: finding.summary.startsWith(ATTEMPTED_PREFIX) ? finding.summary : `${ATTEMPTED_PREFIX}${finding.summary}`,
  };
}
