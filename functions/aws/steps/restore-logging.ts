/**
 * Step `restore-logging`: start again what an untrusted actor stopped (driftwarden-tamper):
 * CloudTrail logging on a trail (StartLogging, with the trail name or ARN the actor's call
 * named), or an AWS Config recorder (StartConfigurationRecorder). Both calls are idempotent:
 * starting what already runs succeeds, so a retry does no harm.
 *
 * The calls go to the event's account and region: StopLogging is only accepted in the
 * trail's home region, so that is where the trail can be started again.
 */
import { StartLoggingCommand } from '@aws-sdk/client-cloudtrail';
import { StartConfigurationRecorderCommand } from '@aws-sdk/client-config-service';
import type { RestoreLoggingStep, StepOutcome } from '../../core/decision';
import { awsErrorName } from '../aws-errors';
import { loadLaterClients } from '../clients';
import type { StepContext } from './context';
import { failedOutcome, guarded, outcome } from './outcome';

export const IAM_ACTIONS = ['cloudtrail:StartLogging', 'config:StartConfigurationRecorder'] as const;

/** What a human must do when the restart fails for a reason no retry will fix. */
const HINTS: Record<string, string> = {
  TrailNotFoundException: 'the trail no longer exists: recreate it from its template',
  InvalidHomeRegionException: "the trail's home region is another region: start it there",
  NoSuchConfigurationRecorderException: 'the recorder no longer exists: recreate it from its template',
  NoAvailableDeliveryChannelException: 'the recorder has no delivery channel: recreate the channel, then start the recorder',
};

export function run(step: RestoreLoggingStep, ctx: StepContext): Promise<StepOutcome> {
  return guarded(step, async () => {
    await loadLaterClients();
    if (step.service === 'cloudtrail') {
      try {
        await ctx.clients.cloudTrail.send(new StartLoggingCommand({ Name: step.resource }));
      } catch (err) {
        return failedOutcome(step, err, withHint(err, `could not start CloudTrail logging on ${step.resource}`));
      }
      return outcome(step, 'done', `started CloudTrail logging on ${step.resource}`);
    }
    const config = ctx.clients.configService;
    if (!config) {
      return { ...outcome(step, 'failed', `could not start AWS Config recorder ${step.resource}: no AWS Config client in this client set`), errorName: 'NoConfigClient' };
    }
    try {
      await config.send(new StartConfigurationRecorderCommand({ ConfigurationRecorderName: step.resource }));
    } catch (err) {
      return failedOutcome(step, err, withHint(err, `could not start AWS Config recorder ${step.resource}`));
    }
    return outcome(step, 'done', `started AWS Config recorder ${step.resource}`);
  });
}

function withHint(err: unknown, what: string): string {
  const hint = HINTS[awsErrorName(err)];
  return hint ? `${what} (${hint})` : what;
}
