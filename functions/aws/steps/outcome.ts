/**
 * The one shared base of the steps: turning results and errors into `StepOutcome`s, so
 * that no step ever throws.
 */
import type { Step, StepAction, StepOutcome, StepStatus } from '../../core/decision';
import { awsErrorName, describeAwsError } from '../aws-errors';

export function outcome(
  step: Pick<Step, 'action' | 'resource'>,
  status: StepStatus,
  detail: string,
  produced?: Record<string, unknown>,
): StepOutcome {
  return { action: step.action, resource: step.resource, status, detail, ...(produced ? { produced } : {}) };
}

export function failedOutcome(
  step: { action: StepAction; resource: string },
  err: unknown,
  what?: string,
  produced?: Record<string, unknown>,
): StepOutcome {
  const described = describeAwsError(err);
  return {
    action: step.action,
    resource: step.resource,
    status: 'failed',
    detail: what ? `${what}: ${described}` : described,
    errorName: awsErrorName(err),
    ...(produced ? { produced } : {}),
  };
}

/** Runs a step body; anything it throws becomes a `failed` outcome. */
export async function guarded(
  step: { action: StepAction; resource: string },
  body: () => Promise<StepOutcome>,
): Promise<StepOutcome> {
  try {
    return await body();
  } catch (err) {
    return failedOutcome(step, err);
  }
}

/** Combines the outcomes of parts of one step: any failure fails it; all already-done stays already-done. */
export function combine(step: { action: StepAction; resource: string }, parts: StepOutcome[], produced?: Record<string, unknown>): StepOutcome {
  const failed = parts.filter((p) => p.status === 'failed');
  const detail = parts.map((p) => p.detail).join('; ');
  if (failed.length > 0) {
    return { action: step.action, resource: step.resource, status: 'failed', detail, errorName: failed[0]!.errorName, ...(produced ? { produced } : {}) };
  }
  const status: StepStatus = parts.length > 0 && parts.every((p) => p.status === 'already-done') ? 'already-done' : parts.some((p) => p.status === 'deferred') ? 'deferred' : 'done';
  return { action: step.action, resource: step.resource, status, detail, ...(produced ? { produced } : {}) };
}
