/**
 * The sweeper Lambda (scheduled, hourly): runSweep (sweep.ts) with the responder's own deps,
 * so every violation it finds goes through the same pipeline and the same dedupe store as a
 * live event. Clients and state utilities are created once per container.
 *
 * Budget: the invocation's remaining time minus DEFAULT_MARGIN_MS, and at most
 * DRIFTWARDEN_SWEEP_BUDGET_MS when set. Regions: DRIFTWARDEN_REGIONS (comma-separated),
 * default the function's own region. Page size of the Describe* calls:
 * DRIFTWARDEN_SWEEP_PAGE_SIZE (5 to 1000, EC2's bounds for MaxResults), default 100.
 * Accounts (accounts.ts): the account driftwarden runs in, plus DRIFTWARDEN_SWEEP_ACCOUNTS when
 * set, or else in Organization mode (DRIFTWARDEN_MEMBER_ROLE_NAME) every active account of the
 * organization (organizations:ListAccounts: deploy in the management account or a delegated
 * administrator; elsewhere the home account is swept alone, with a warning).
 */
import { Logger } from '@aws-lambda-powertools/logger';
import { AlertLimiter } from '../aws/state/alert-limiter';
import { ReplacementLedger } from '../aws/state/replacements';
import { createResponderDeps } from '../responder';
import { respondToChangeEvent, type ResponderDeps } from '../responder/respond';
import { sweepAccounts } from './accounts';
import { SweepCursorStore } from './cursor';
import { DEFAULT_MARGIN_MS, DEFAULT_PAGE_SIZE, runSweep, type SweepResult } from './sweep';

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

/** EC2's bounds for MaxResults of DescribeInstances and DescribeSecurityGroups. */
export const PAGE_SIZE_BOUNDS = { min: 5, max: 1000 } as const;

/**
 * The page size of the Describe* calls: DRIFTWARDEN_SWEEP_PAGE_SIZE when it is a whole number
 * EC2 accepts as MaxResults (5 to 1000), otherwise DEFAULT_PAGE_SIZE and a warning that says
 * why (a bad value must not stop the sweep, nor reach EC2 and fail every page).
 */
export function sweepPageSize(env: NodeJS.ProcessEnv = process.env): { pageSize: number; warning?: string } {
  const text = (env.DRIFTWARDEN_SWEEP_PAGE_SIZE ?? '').trim();
  if (text === '') return { pageSize: DEFAULT_PAGE_SIZE };
  const value = Number(text);
  if (Number.isInteger(value) && value >= PAGE_SIZE_BOUNDS.min && value <= PAGE_SIZE_BOUNDS.max) return { pageSize: value };
  return {
    pageSize: DEFAULT_PAGE_SIZE,
    warning: `DRIFTWARDEN_SWEEP_PAGE_SIZE=${JSON.stringify(text)} is not a whole number from ${PAGE_SIZE_BOUNDS.min} to ${PAGE_SIZE_BOUNDS.max}: using ${DEFAULT_PAGE_SIZE}`,
  };
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
  const paging = sweepPageSize();
  if (paging.warning) logger.warn(paging.warning);
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
    pageSize: paging.pageSize,
    accounts: () => sweepAccounts(),
    logger: { info: (m, e) => logger.info(m, e ?? {}), warn: (m, e) => logger.warn(m, e ?? {}) },
  });
  logger.info(`sweep ${result.complete ? 'complete' : 'paused'}`, {
    accounts: result.accounts.map((a) => a.accountId ?? '(home)'),
    accountSource: result.accountSource,
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
