/**
 * The sweeper Lambda (scheduled, hourly): runSweep (sweep.ts) with the responder's own deps,
 * so every violation it finds goes through the same pipeline and the same dedupe store as a
 * live event. Clients and state utilities are created once per container.
 *
 * Budget: the invocation's remaining time minus DEFAULT_MARGIN_MS, and at most
 * DRIFTWARDEN_SWEEP_BUDGET_MS when set. Regions: DRIFTWARDEN_REGIONS (comma-separated),
 * default the function's own region. The sweep covers the account driftwarden runs in.
 */
import { Logger } from '@aws-lambda-powertools/logger';
import { AlertLimiter } from '../aws/state/alert-limiter';
import { ReplacementLedger } from '../aws/state/replacements';
import { createResponderDeps } from '../responder';
import { respondToChangeEvent, type ResponderDeps } from '../responder/respond';
import { SweepCursorStore } from './cursor';
import { DEFAULT_MARGIN_MS, runSweep, type SweepResult } from './sweep';

const logger = new Logger({ serviceName: process.env.POWERTOOLS_SERVICE_NAME ?? 'driftwarden' });

let shared: { responder: ResponderDeps; cursor: SweepCursorStore; ledger: ReplacementLedger; alerts: AlertLimiter } | undefined;

export function sweepRegions(env: NodeJS.ProcessEnv = process.env): string[] {
  const listed = (env.DRIFTWARDEN_REGIONS ?? '')
    .split(',')
    .map((r) => r.trim())
    .filter((r) => r !== '');
  if (listed.length > 0) return [...new Set(listed)];
  const own = (env.AWS_REGION ?? env.AWS_DEFAULT_REGION ?? '').trim();
  return own ? [own] : [];
}

/** Milliseconds left: the Lambda's remaining time minus the margin, capped by DRIFTWARDEN_SWEEP_BUDGET_MS. */
export function budgetClock(context: { getRemainingTimeInMillis(): number } | undefined, env: NodeJS.ProcessEnv = process.env, clock: () => number = Date.now): () => number {
  const started = clock();
  const configured = Number(env.DRIFTWARDEN_SWEEP_BUDGET_MS ?? '');
  const cap = Number.isFinite(configured) && configured > 0 ? configured : undefined;
  return () => {
    const lambdaLeft = context ? context.getRemainingTimeInMillis() - DEFAULT_MARGIN_MS : Number.POSITIVE_INFINITY;
    const capLeft = cap !== undefined ? cap - (clock() - started) : Number.POSITIVE_INFINITY;
    const left = Math.min(lambdaLeft, capLeft);
    return Number.isFinite(left) ? left : 15 * 60_000;
  };
}

export const handler = async (_event: unknown, context?: { getRemainingTimeInMillis(): number }): Promise<SweepResult> => {
  shared ??= { responder: createResponderDeps(), cursor: new SweepCursorStore(), ledger: new ReplacementLedger(), alerts: new AlertLimiter() };
  const { responder, cursor, ledger, alerts } = shared;
  const result = await runSweep({
    regions: sweepRegions(),
    clientsFor: responder.clientsFor,
    readerFor: responder.readerFor,
    policy: responder.policy,
    respond: (event, options) => respondToChangeEvent(event, responder, { ...options, ...(context ? { lambdaContext: context } : {}) }),
    ledger,
    cursor,
    alerts,
    topicArn: responder.config.topicArn,
    now: () => new Date(),
    remainingMs: budgetClock(context),
    logger: { info: (m, e) => logger.info(m, e ?? {}), warn: (m, e) => logger.warn(m, e ?? {}) },
  });
  logger.info(`sweep ${result.complete ? 'complete' : 'paused'}`, {
    scanned: result.scanned,
    violations: result.violations.map((v) => ({ key: v.idempotencyKey, status: v.response.status, decision: v.response.decision })),
    notHandedOn: result.notHandedOn,
    terminations: result.terminations,
    summaries: result.summaries,
    cursor: result.cursor,
  });
  for (const warning of result.warnings) logger.warn(warning);
  // Terminations after the forensic hold are decisions too: audit each one.
  await Promise.all(
    result.terminations.map((outcome) =>
      (responder.state.audit.recordFollowUp?.({
          followUpOf: `forensic-hold:${outcome.resource}`,
          status: outcome.status === 'done' || outcome.status === 'already-done' ? 'terminated' : `termination-${outcome.status}`,
          detail: outcome.detail,
          resources: [outcome.resource],
          decidedAt: new Date().toISOString(),
          outcomes: [outcome],
        }) ?? Promise.resolve())
        .catch((error: unknown) => logger.error('audit follow-up not written', { error: String(error), instance: outcome.resource })),
    ),
  );
  return result;
};
