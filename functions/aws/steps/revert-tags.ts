/**
 * Step `revert-tags`: undo an untrusted actor's change to driftwarden's own tags on one
 * instance or security group (driftwarden-tamper). The keys it added are deleted, the keys
 * it deleted are put back with their previous value (the plan says which and why).
 *
 * - Deletion names exactly the keys to remove. A DeleteTags call without tags deletes EVERY
 *   tag of the resource, so an empty list is never sent (and the role's DeleteTags grant
 *   requires tag keys, all `driftwarden:*`).
 * - Deletion runs before the restore, so that a key that is both (a replay that knows the
 *   old value) ends with its old value.
 * - Both calls are idempotent (CreateTags overwrites; deleting an absent key succeeds), so a
 *   retry does no harm. A resource that is gone has nothing left to revert.
 */
import { CreateTagsCommand, DeleteTagsCommand } from '@aws-sdk/client-ec2';
import type { RevertTagsStep, StepOutcome } from '../../core/decision';
import { hasErrorName } from '../aws-errors';
import { TAG_VALUE_MAX } from '../instances';
import type { StepContext } from './context';
import { failedOutcome, guarded, outcome } from './outcome';

export const IAM_ACTIONS = ['ec2:DeleteTags', 'ec2:CreateTags'] as const;

const GONE = ['InvalidInstanceID.NotFound', 'InvalidGroup.NotFound', 'InvalidID'];
const PREFIX = 'driftwarden:';

export function run(step: RevertTagsStep, ctx: StepContext): Promise<StepOutcome> {
  return guarded(step, async () => {
    const remove = [...new Set(step.remove)];
    const restore = step.restore;
    // The plan only ever names driftwarden's own keys; anything else is a bug upstream, and
    // driftwarden must not touch other people's tags because of it.
    const foreign = [...remove, ...restore.map((t) => t.key)].filter((k) => !k.toLowerCase().startsWith(PREFIX));
    if (foreign.length > 0) {
      return { ...outcome(step, 'failed', `refused: ${foreign.join(', ')} ${foreign.length === 1 ? 'is not a' : 'are not'} driftwarden tag${foreign.length === 1 ? '' : 's'}; nothing changed on ${step.resource}`), errorName: 'NotADriftwardenTag' };
    }
    if (remove.length === 0 && restore.length === 0) return outcome(step, 'already-done', `nothing to revert on ${step.resource}`);

    const done: string[] = [];
    if (remove.length > 0) {
      try {
        await ctx.clients.ec2.send(new DeleteTagsCommand({ Resources: [step.resource], Tags: remove.map((Key) => ({ Key })) }));
      } catch (err) {
        if (hasErrorName(err, ...GONE)) return outcome(step, 'already-done', `${step.resource} no longer exists: nothing to revert`);
        return failedOutcome(step, err, `could not delete ${remove.join(', ')} from ${step.resource}`);
      }
      done.push(`deleted ${remove.join(', ')}`);
    }
    if (restore.length > 0) {
      try {
        await ctx.clients.ec2.send(
          new CreateTagsCommand({ Resources: [step.resource], Tags: restore.map(({ key, value }) => ({ Key: key, Value: value.slice(0, TAG_VALUE_MAX) })) }),
        );
      } catch (err) {
        if (hasErrorName(err, ...GONE)) return outcome(step, 'already-done', `${step.resource} no longer exists: nothing to revert`);
        const partly = done.length > 0 ? ` (${done.join('; ')})` : '';
        return failedOutcome(step, err, `could not restore ${restore.map((t) => t.key).join(', ')} on ${step.resource}${partly}`, { removed: remove });
      }
      done.push(`restored ${restore.map((t) => `${t.key}=${t.value}`).join(', ')}`);
    }
    return outcome(step, 'done', `${done.join('; ')} on ${step.resource}`, { removed: remove, restored: restore });
  });
}
