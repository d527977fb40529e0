/**
 * The responder Lambda: one EventBridge event (CloudTrail API call or Config item change) in,
 * one summary out. Thin: parse, call the core, execute, log (respond.ts does the work).
 *
 * Clients, the state utilities and the policy are created once per container and reused.
 * A rejected input returns normally (it is logged and counted; retrying it would not help).
 * An error that a retry might fix (the policy or the idempotency table unreadable) is thrown,
 * so the event lands in the on-failure destination with its context; nothing is lost silently.
 */
import { Logger } from '@aws-lambda-powertools/logger';
import { Metrics } from '@aws-lambda-powertools/metrics';
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import type { Context } from 'aws-lambda';
import { dirname } from 'node:path';
import { clientsFor } from '../aws/clients';
import { AwsContextReader } from '../aws/context-reader';
import { confirmInstanceDrift } from '../aws/drift';
import { AlertLimiter, AuditTrail, BlastRadiusLimiter, EffectivelyOnce, ViolationClaims, readKillSwitch } from '../aws/state';
import { ReplacementLedger } from '../aws/state/replacements';
import { applyDeploymentSettings, readConfig } from './config';
import { PolicySource } from './policy-source';
import { respond, type ResponderDeps, type ResponseSummary } from './respond';
import { isSelfTestRequest, runSelfTest, selfTestRoot, type SelfTestResult } from './self-test';

export function createResponderDeps(env: NodeJS.ProcessEnv = process.env): ResponderDeps {
  const config = readConfig(env);
  const logger = new Logger({ serviceName: env.POWERTOOLS_SERVICE_NAME ?? 'driftwarden' });
  const metrics = new Metrics({ namespace: env.POWERTOOLS_METRICS_NAMESPACE ?? 'driftwarden', serviceName: env.POWERTOOLS_SERVICE_NAME ?? 'driftwarden' });
  const homeClients = clientsFor({});
  const dynamodb = new DynamoDBClient({});
  const policySource = new PolicySource({
    ...(config.policySource ? { source: config.policySource } : {}),
    ssm: () => homeClients.ssm,
    ttlSeconds: config.policyTtlSeconds,
    onReloadFailure: (error) => logger.error('policy reload failed: keeping the last good policy', { error: String(error) }),
  });
  const now = () => new Date();
  const claims = new ViolationClaims({ client: dynamodb, now });
  const audit = new AuditTrail({ client: dynamodb, now });
  const replacements = new ReplacementLedger({ client: dynamodb, now });
  // Limiters follow the policy's limits, which can change on reload: rebuilt when they do.
  const memo = <T>(build: (max: number, minutes: number) => T) => {
    let last: { key: string; value: T } | undefined;
    return (max: number, minutes: number): T => {
      const key = `${max}/${minutes}`;
      if (last?.key !== key) last = { key, value: build(max, minutes) };
      return last.value;
    };
  };
  const blastRadius = memo((maxActions, windowMinutes) => new BlastRadiusLimiter({ client: dynamodb, maxActions, windowMinutes, now }));
  const alerts = memo((maxAlerts, windowMinutes) => new AlertLimiter({ client: dynamodb, maxAlerts, windowMinutes, now }));
  return {
    config,
    policy: async () => applyDeploymentSettings(await policySource.get(), config),
    clientsFor: (target) => clientsFor(target),
    homeClients,
    readerFor: (clients) => new AwsContextReader(clients),
    state: {
      once: new EffectivelyOnce({ client: dynamodb }),
      claims,
      blastRadius: (policy) => blastRadius(policy.limits.maxDestructiveActions, policy.limits.windowMinutes),
      alerts: (policy) => alerts(policy.limits.maxAlertsPerWindow, policy.limits.alertWindowMinutes),
      audit,
      replacements,
    },
    confirmDrift: confirmInstanceDrift,
    readKillSwitch,
    logger,
    metrics,
    now,
  };
}

let deps: ResponderDeps | undefined;

export const handler = async (event: unknown, context?: Context): Promise<ResponseSummary | { selfTest: SelfTestResult[] }> => {
  deps ??= createResponderDeps();
  if (isSelfTestRequest(event)) {
    // Invoked directly by the pre-traffic hook, never by EventBridge (no rule matches this shape).
    return { selfTest: await runSelfTest(selfTestRoot(__dirname ?? dirname(''))) };
  }
  try {
    return await respond(event, deps, context);
  } finally {
    deps.metrics.publishStoredMetrics();
  }
};
