/**
 * Who is trusted to change resources. Pure: the actor and the policy in, a verdict out.
 *
 * Anyone can create a stack, so `invokedBy: cloudformation.amazonaws.com` alone proves
 * nothing: the identity CloudFormation acted as (a stack service role, or the caller whose
 * credentials it forwarded) must itself be trusted. Only when no pipeline principal and no
 * stack service role is configured is every CloudFormation-invoked call trusted, and that
 * weak default is flagged in every verdict it produces.
 */
import type { Actor } from './model';
import type { Policy } from './policy/schema';

export const CLOUDFORMATION = 'cloudformation.amazonaws.com';

export type TrustReason =
  | 'aws-service'
  | 'service-linked-role'
  | 'driftwarden'
  | 'pipeline-principal'
  | 'cloudformation-as-trusted-principal'
  | 'cloudformation-weak-default'
  | 'untrusted';

export interface TrustVerdict {
  trusted: boolean;
  reason: TrustReason;
  /** True when the actor is driftwarden itself: its own changes never trigger actions. */
  self: boolean;
  warnings: string[];
}

const patternCache = new Map<string, RegExp>();

/** `*` matches any run of characters (including `/` and `:`), `?` one character. */
export function arnPatternToRegExp(pattern: string): RegExp {
  let re = patternCache.get(pattern);
  if (!re) {
    const body = pattern.replace(/[.+^${}()|[\]\\]/g, '\\$&').replace(/\*/g, '.*').replace(/\?/g, '.');
    re = new RegExp(`^${body}$`);
    patternCache.set(pattern, re);
  }
  return re;
}

export function matchesAny(arns: (string | undefined)[], patterns: string[]): boolean {
  return arns.some((arn) => arn !== undefined && patterns.some((p) => arnPatternToRegExp(p).test(arn)));
}

/** The ARNs an actor can be recognised by: its own and, for a role session, the role's. */
export function actorArns(actor: Actor): string[] {
  return [actor.arn, actor.issuerArn].filter((a): a is string => typeof a === 'string' && a.length > 0);
}

export function isServiceLinkedRole(actor: Actor): boolean {
  return actorArns(actor).some((arn) => arn.includes(':role/aws-service-role/'));
}

/**
 * Verdicts per policy and actor: a CloudTrail archive repeats a few actors a million times.
 * Keyed on the policy object (a new policy starts afresh) and bounded in size. Within a policy,
 * verdicts are filed under the actor's ARN and told apart by the other fields the verdict
 * reads, compared one by one: no key string is built per event.
 */
interface RememberedVerdict {
  type: Actor['type'];
  issuerArn: string | undefined;
  invokedBy: string | undefined;
  verdict: TrustVerdict;
}
const verdicts = new WeakMap<Policy, { byArn: Map<string, RememberedVerdict[]>; size: number }>();
const MAX_REMEMBERED = 10_000;

export function evaluateTrust(actor: Actor, policy: Policy): TrustVerdict {
  let known = verdicts.get(policy);
  if (!known) verdicts.set(policy, (known = { byArn: new Map(), size: 0 }));
  const arn = actor.arn ?? '';
  let filed = known.byArn.get(arn);
  if (filed) {
    for (const r of filed) {
      if (r.type === actor.type && r.issuerArn === actor.issuerArn && r.invokedBy === actor.invokedBy) return r.verdict;
    }
  }
  const verdict = judgeTrust(actor, policy);
  if (known.size >= MAX_REMEMBERED) {
    known.byArn.clear();
    known.size = 0;
    filed = undefined;
  }
  if (!filed) known.byArn.set(arn, (filed = []));
  filed.push({ type: actor.type, issuerArn: actor.issuerArn, invokedBy: actor.invokedBy, verdict });
  known.size += 1;
  return verdict;
}

function judgeTrust(actor: Actor, policy: Policy): TrustVerdict {
  const t = policy.trust;
  const arns = actorArns(actor);
  const verdict = (trusted: boolean, reason: TrustReason, warnings: string[] = []): TrustVerdict => ({
    trusted,
    reason,
    self: reason === 'driftwarden',
    warnings,
  });

  if (matchesAny(arns, t.driftwardenPrincipals)) return verdict(true, 'driftwarden');
  if (t.awsServices && actor.type === 'AWSService') return verdict(true, 'aws-service');
  if (t.serviceLinkedRoles && isServiceLinkedRole(actor)) return verdict(true, 'service-linked-role');
  if (matchesAny(arns, t.pipelinePrincipals)) return verdict(true, 'pipeline-principal');

  if (actor.invokedBy === CLOUDFORMATION) {
    if (t.pipelinePrincipals.length === 0 && t.stackServiceRoles.length === 0) {
      return verdict(true, 'cloudformation-weak-default', [
        'No pipeline principals are configured, so every CloudFormation-invoked call is trusted. Anyone who can create a stack can change resources unseen: set trust.pipelinePrincipals.',
      ]);
    }
    if (matchesAny(arns, t.stackServiceRoles)) return verdict(true, 'cloudformation-as-trusted-principal');
  }
  return verdict(false, 'untrusted');
}
