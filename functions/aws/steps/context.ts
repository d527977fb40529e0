/**
 * What every executor step is given. Steps never read the clock or the environment
 * themselves: the executor hands both in, so tests control them.
 */
import type { Plan, StepOutcome } from '../../core/decision';
import type { ChangeEvent } from '../../core/model';
import type { Policy } from '../../core/policy/schema';
import type { AlertInput } from '../../core/report/types';
import type { AwsClients } from '../clients';
import type { DriftwardenGroupsPrefetch } from './isolation-group';

export interface StepContext {
  clients: AwsClients;
  event: ChangeEvent;
  plan: Plan;
  policy: Policy;
  now: () => Date;
  /** Waits between retries of eventually consistent reads; tests pass one that does not wait. */
  sleep?: (ms: number) => Promise<void>;
  /** Outcomes of the steps that ran before this one. */
  outcomes: StepOutcome[];
  /** The SNS topic alerts go to (DRIFTWARDEN_TOPIC_ARN, read by the executor). Absent: alerts are skipped. */
  topicArn?: string;
  /** What the alert needs beyond the plan (see `AlertOptions`). */
  alert?: AlertOptions;
  /**
   * The region's driftwarden isolation and allow-all groups, read by the shell together with the
   * context (isolation-group.ts, `prefetchDriftwardenGroups`). Absent or failed: the isolate step
   * looks its VPC's groups up itself.
   */
  isolationGroups?: DriftwardenGroupsPrefetch;
}

/**
 * Alert inputs that the shell computes while containment runs, so that they never delay it:
 * - `gate`: the alert-storm limiter's verdict; false folds this alert into the periodic summary.
 * - `details`: extra lines (drift confirmation) that arrive while containment runs.
 * - `actorTrusted`: the classification's trust verdict.
 * - `exemptions`: how to exempt the resource, from the policy.
 */
export interface AlertOptions {
  gate?: Promise<boolean>;
  details?: Promise<string[]>;
  actorTrusted?: boolean;
  exemptions?: AlertInput['exemptions'];
}

export const realSleep = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));
