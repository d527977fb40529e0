/**
 * One event through the pure core: normalize → contextNeeds → gatherContext → classify →
 * planResponse. The only effect is reading context through the injected `ContextReader`;
 * the clock is handed in as `now`. Every entry point (the responder, the sweeper, the CLI
 * replay) goes through here, so a replay plans exactly what the Lambda would.
 */
import { classify } from './classify';
import type { Classification } from './classify';
import type { ContextReader, ResourceContext } from './context';
import { contextNeeds } from './context-needs';
import type { ContextRequest } from './context-needs';
import type { Plan } from './decision';
import { gatherContext } from './gather';
import type { ChangeEvent, NormalizeResult, Rejection } from './model';
import { normalize } from './normalize';
import { planResponse } from './plan';
import type { PlanOverrides } from './plan';
import type { Policy } from './policy/schema';

export type { Classification, PlanOverrides };

export interface EvaluateDeps {
  policy: Policy;
  /** Read-only context lookups; reuse one reader across events so its memo is shared. */
  reader: ContextReader;
  /** ISO-8601 time the decision is made at. */
  now: string;
  /** True when no mutating step may run (replay without --execute). */
  dryRun: boolean;
  overrides?: PlanOverrides;
}

export type Evaluation =
  | { rejection: Rejection }
  | { event: ChangeEvent; classification: Classification; context: ResourceContext; plan: Plan };

export const isRejected = (evaluation: Evaluation): evaluation is { rejection: Rejection } => 'rejection' in evaluation;

/** Evaluate one raw input (an EventBridge event, a bare CloudTrail record, a Config item event). */
export async function evaluateInput(input: unknown, deps: EvaluateDeps): Promise<Evaluation> {
  return evaluateNormalized(normalize(input), deps);
}

/**
 * Evaluate an input that is already normalized, for callers that parse text themselves
 * (`normalizeText` for a JSON Lines line) and must not parse twice.
 */
export async function evaluateNormalized(normalized: NormalizeResult, deps: EvaluateDeps): Promise<Evaluation> {
  return evaluateNormalizedNow(normalized, deps);
}

/**
 * `evaluateInput`, answered synchronously when the event needs no context (read-only calls,
 * most of a trail) and as a promise otherwise: a replay of a million records awaits only the
 * few that read context. Same result as `evaluateInput` in both cases.
 */
export function evaluateInputNow(input: unknown, deps: EvaluateDeps): Evaluation | Promise<Evaluation> {
  return evaluateNormalizedNow(normalize(input), deps);
}

function evaluateNormalizedNow(normalized: NormalizeResult, deps: EvaluateDeps): Evaluation | Promise<Evaluation> {
  if (normalized.rejected) return { rejection: normalized };
  const event = normalized.event;
  const request = contextNeeds(event, deps.policy);
  // Most events (read-only calls: 98% of a typical trail) need no context at all: skip the
  // reader and its promises. The context is exactly what gathering an empty request yields.
  if (needsNothing(request)) return decide(event, emptyContext(deps.now), deps);
  return gatherContext(request, deps.reader, deps.now).then((context) => decide(event, context, deps));
}

function decide(event: ChangeEvent, context: ResourceContext, deps: EvaluateDeps): Evaluation {
  const classification = classify(event, deps.policy, context);
  const plan = planResponse({
    event,
    classification,
    context,
    policy: deps.policy,
    dryRun: deps.dryRun,
    overrides: deps.overrides,
  });
  return { event, classification, context, plan };
}

/** True when the request names nothing to look up (no reader call would be made for it). */
function needsNothing(request: ContextRequest): boolean {
  return (
    request.instanceIds.length === 0 &&
    request.securityGroupIds.length === 0 &&
    request.imageIds.length === 0 &&
    request.approvedAmiPath === undefined &&
    request.exemptionResourceIds.length === 0
  );
}

/** The context `gatherContext` returns for a request that names nothing. */
function emptyContext(now: string): ResourceContext {
  return { instances: {}, securityGroups: {}, images: {}, exemptionWriters: {}, now };
}
