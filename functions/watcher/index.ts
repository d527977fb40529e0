/**
 * The watcher Lambda: one EventBridge "CloudFormation Stack Status Change" event in, the
 * replacement followed to its end (watch.ts). Clients, the ledger and the policy source are
 * created once per container; the policy is read as the responder reads it (same source,
 * same deployment settings). A bad event is logged and answered, never thrown; a state-store
 * failure is thrown so that Lambda retries the event (the ledger makes the retry safe).
 */
import { Logger } from '@aws-lambda-powertools/logger';
import { clientsFor } from '../aws/clients';
import { AuditTrail } from '../aws/state/audit';
import { ReplacementLedger } from '../aws/state/replacements';
import { applyDeploymentSettings, readConfig } from '../responder/config';
import { PolicySource } from '../responder/policy-source';
import { watchStackEvent, type WatchResult, type WatcherLogger } from './watch';

const logger = new Logger({ serviceName: process.env.POWERTOOLS_SERVICE_NAME ?? 'driftwarden' });
const config = readConfig(process.env);
const policySource = new PolicySource({
  source: config.policySource,
  ssm: () => clientsFor().ssm,
  ttlSeconds: config.policyTtlSeconds,
  onReloadFailure: (error) => logger.warn('policy reload failed: keeping the last good policy', { error: String(error) }),
});
let ledger: ReplacementLedger | undefined;
let audit: AuditTrail | undefined;

const log: WatcherLogger = {
  info: (message, extra) => logger.info(message, extra ?? {}),
  warn: (message, extra) => logger.warn(message, extra ?? {}),
};

/** Watcher results that are decisions (the others ignore or repeat an event). */
const FOLLOW_UPS = new Set<WatchResult['status']>(['replaced', 'termination-due', 'kept']);

export const handler = async (event: unknown): Promise<WatchResult> => {
  ledger ??= new ReplacementLedger();
  audit ??= new AuditTrail();
  const policy = applyDeploymentSettings(await policySource.get(), config);
  const result = await watchStackEvent(event, {
    ledger,
    clientsFor: (target) => clientsFor(target),
    policy,
    topicArn: config.topicArn,
    now: () => new Date(),
    logger: log,
  });
  log[result.status === 'kept' || result.status === 'rejected' ? 'warn' : 'info'](`watcher: ${result.status}`, { result });
  if (FOLLOW_UPS.has(result.status) && result.clientRequestToken) {
    // Every decision is audited, follow-ups included; a failed write is logged, not retried
    // (the ledger already moved on, and a retry would not re-run the decision).
    await audit
      .recordFollowUp({
        followUpOf: result.clientRequestToken,
        status: result.status,
        detail: result.reason,
        resources: [result.oldInstanceId, result.newInstanceId].filter((id): id is string => typeof id === 'string'),
        decidedAt: new Date().toISOString(),
        ...(result.termination ? { outcomes: [result.termination] } : {}),
      })
      .catch((error: unknown) => logger.error('audit follow-up not written', { error: String(error), result }));
  }
  return result;
};
