/**
 * The pipeline with none of its shortcuts: context is always asked for and gathered through the
 * reader, then classify and plan. Tests compare the fast paths (no context request for a
 * read-only call, no promise for an event that needs none) against it.
 */
import { classify } from '../../functions/core/classify';
import type { ContextReader } from '../../functions/core/context';
import { contextNeeds } from '../../functions/core/context-needs';
import { gatherContext } from '../../functions/core/gather';
import { normalize } from '../../functions/core/normalize';
import type { Evaluation } from '../../functions/core/pipeline';
import { planResponse } from '../../functions/core/plan';
import type { Policy } from '../../functions/core/policy/schema';

export async function evaluateInFull(input: unknown, policy: Policy, reader: ContextReader, now: string): Promise<Evaluation> {
  const normalized = normalize(input);
  if (normalized.rejected) return { rejection: normalized };
  const event = normalized.event;
  const context = await gatherContext(contextNeeds(event, policy), reader, now);
  const classification = classify(event, policy, context);
  return { event, classification, context, plan: planResponse({ event, classification, context, policy, dryRun: true }) };
}
