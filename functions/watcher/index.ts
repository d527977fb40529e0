/**
 * The watcher Lambda: one EventBridge "CloudFormation Stack Status Change" event in, the
 * replacement followed to its end (watch.ts). Clients, the ledger and the policy source are
 * created once per container; the policy is read as the responder reads it (same source,
 * same deployment settings). A bad event is logged and answered, never thrown; a state-store
 * failure is thrown so that Lambda retries the event (the ledger makes the retry safe).
 */
import { Logger } from '@aws-lambda-powertools/logger';
import { clientsFor } from '../aws/clients';
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

const log: WatcherLogger = {
  info: (message, extra) => logger.info(message, extra ?? {}),
  warn: (message, extra) => logger.warn(message, extra ?? {}),
};

export const handler = async (event: unknown): Promise<WatchResult> => {
  ledger ??= new ReplacementLedger();
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
  return result;
};
