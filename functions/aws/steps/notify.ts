/**
 * Step `notify`: publish the alert to the SNS topic (DRIFTWARDEN_TOPIC_ARN).
 *
 * The message is built by the pure `buildAlert`; it uses MessageStructure `json` (one body
 * per protocol, `default` included) and message attributes for subscription filters.
 * No topic configured: the step is skipped and says so (the alert is still in the log).
 */
import { PublishCommand } from '@aws-sdk/client-sns';
import type { NotifyStep, StepOutcome } from '../../core/decision';
import { buildAlert } from '../../core/report/alert';
import type { AlertInput } from '../../core/report/types';
import type { AwsClients } from '../clients';
import type { StepContext } from './context';
import { failedOutcome, guarded, outcome } from './outcome';

export const IAM_ACTIONS = ['sns:Publish'] as const;

/** Publishes one alert. Throws on failure (callers turn that into an outcome). */
export async function publishAlert(input: AlertInput, deps: { clients: Pick<AwsClients, 'sns'>; topicArn: string }): Promise<string | undefined> {
  const alert = buildAlert(input);
  const res = await deps.clients.sns.send(
    new PublishCommand({
      TopicArn: deps.topicArn,
      Subject: alert.subject,
      Message: alert.message,
      MessageStructure: 'json',
      MessageAttributes: alert.attributes,
    }),
  );
  return res.MessageId;
}

/**
 * `ctx.outcomes` are the outcomes known when the alert goes out; the executor lists the
 * evidence steps still running as `deferred`.
 */
export function run(step: NotifyStep, ctx: StepContext): Promise<StepOutcome> {
  return guarded(step, async () => {
    if (!ctx.topicArn) return outcome(step, 'skipped', 'no alert topic configured (DRIFTWARDEN_TOPIC_ARN): alert not published');
    const alert = ctx.alert ?? {};
    // The limiter answers while containment runs; a failed answer never silences an alert.
    const admitted = await (alert.gate ?? Promise.resolve(true)).catch(() => true);
    if (!admitted) return outcome(step, 'skipped', 'alert storm: this alert is folded into the periodic summary', { suppressed: true });
    const details = await (alert.details ?? Promise.resolve([])).catch((err: unknown) => [`(extra details unavailable: ${String(err)})`]);
    try {
      const input: AlertInput = {
        kind: 'response',
        event: ctx.event,
        plan: ctx.plan,
        outcomes: ctx.outcomes,
        ...(details.length > 0 ? { details } : {}),
        ...(alert.actorTrusted !== undefined ? { actorTrusted: alert.actorTrusted } : {}),
        ...(alert.exemptions ? { exemptions: alert.exemptions } : {}),
      };
      const messageId = await publishAlert(input, { clients: ctx.clients, topicArn: ctx.topicArn });
      return outcome(step, 'done', `alert published to ${ctx.topicArn}`, { messageId, topicArn: ctx.topicArn });
    } catch (err) {
      return failedOutcome(step, err, `could not publish the alert to ${ctx.topicArn}`);
    }
  });
}
