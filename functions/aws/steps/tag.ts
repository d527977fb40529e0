/**
 * Step `tag`: mark the instance as quarantined, with the finding, the reason and the time.
 * The quarantine tag is how driftwarden recognises its own quarantined resources (and never
 * acts on them again). CreateTags overwrites, so a retry does no harm.
 */
import { CreateTagsCommand } from '@aws-sdk/client-ec2';
import type { StepOutcome, TagStep } from '../../core/decision';
import { TAG, TAG_VALUE_MAX } from '../instances';
import type { StepContext } from './context';
import { failedOutcome, guarded, outcome } from './outcome';

export const IAM_ACTIONS = ['ec2:CreateTags'] as const;

export function quarantineTags(step: TagStep, now: Date): Record<string, string> {
  return {
    [TAG.quarantined]: step.findingId,
    [TAG.reason]: step.reason,
    ...step.tags,
    [TAG.quarantinedAt]: now.toISOString(),
  };
}

export function run(step: TagStep, ctx: StepContext): Promise<StepOutcome> {
  return guarded(step, async () => {
    const tags = quarantineTags(step, ctx.now());
    try {
      await ctx.clients.ec2.send(
        new CreateTagsCommand({
          Resources: [step.resource],
          Tags: Object.entries(tags).map(([Key, Value]) => ({ Key, Value: Value.slice(0, TAG_VALUE_MAX) })),
        }),
      );
    } catch (err) {
      return failedOutcome(step, err, `could not tag ${step.resource}`);
    }
    return outcome(step, 'done', `tagged ${step.resource} ${TAG.quarantined}=${step.findingId}`, { tags });
  });
}
