/**
 * What every executor step is given. Steps never read the clock or the environment
 * themselves: the executor hands both in, so tests control them.
 */
import type { Plan, StepOutcome } from '../../core/decision';
import type { ChangeEvent } from '../../core/model';
import type { Policy } from '../../core/policy/schema';
import type { AwsClients } from '../clients';

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
}

export const realSleep = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));
