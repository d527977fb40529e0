/**
 * The responder's shell: one event through normalize → classify → decide → plan (the pure
 * core), then effectively-once execution on AWS, the alert and the audit record.
 *
 * Containment is the critical path, so everything the decision needs goes out in ONE round
 * trip, together: the context reads, the kill switch, the idempotency record, the violation
 * claims and the blast-radius allowance. The last two are taken speculatively, from what the
 * event alone says (the rules that need no context), and corrected once the plan is known:
 * unused allowance and claims are given back. Then revoke/isolate go out; evidence, the alert
 * and replacement follow (executor.ts).
 *
 * Guarantees (README, "Guarantees"):
 * - A delivery whose key already ran, or is running, does nothing (Powertools idempotency).
 * - A violation seen twice (CloudTrail and Config, a live event and the sweep) is acted on once:
 *   the violation claims decide who acts; the other records "already handled".
 * - Past the blast-radius limit, the kill switch, or global observe mode: observe, never act.
 * - Bad input is rejected and logged; it never throws and never acts.
 */
import type { Logger } from '@aws-lambda-powertools/logger';
import { MetricUnit, type Metrics } from '@aws-lambda-powertools/metrics';
import { classify } from '../core/classify';
import { emptyContext, type ContextReader } from '../core/context';
import type { Plan, StepOutcome } from '../core/decision';
import type { ChangeEvent, Finding } from '../core/model';
import { normalize } from '../core/normalize';
import { evaluateNormalized } from '../core/pipeline';
import { planResponse, replacementToken, type PlanOverrides } from '../core/plan';
import type { Policy } from '../core/policy/schema';
import { violationKeysForFindings } from '../core/violation-keys';
import type { AwsClients, ClientTarget } from '../aws/clients';
import { executePlan } from '../aws/executor';
import type { ReplacementInput } from '../aws/state/replacements';
import { prefetchDriftwardenGroups } from '../aws/steps/isolation-group';
import { publishAlert } from '../aws/steps/notify';
import type { ResponderConfig } from './config';

/** Steps that count against the blast-radius limit. */
const DESTRUCTIVE = new Set(['isolate-instance', 'replace', 'terminate']);
/** Claims live as long as the idempotency records: past that, the sweeper may act again. */
const CLAIM_TTL_SECONDS = 48 * 3600;

export type ResponseStatus = 'processed' | 'duplicate' | 'duplicate-in-progress' | 'rejected';

/** What one invocation returns (and what the idempotency record stores): small, JSON. */
export interface ResponseSummary {
  status: ResponseStatus;
  eventId?: string;
  eventName?: string;
  decision?: string;
  rules?: string[];
  resources?: string[];
  outcomes?: { action: string; resource: string; status: string; detail: string }[];
  containmentMs?: number;
  reason?: string;
  warnings?: string[];
}

/** The narrow view of each state utility the responder uses (functions/aws/state). */
export interface ResponderState {
  once: {
    run<T>(key: string, fn: () => Promise<T>): Promise<{ status: 'processed'; result: T; warning?: string } | { status: 'duplicate'; result: T } | { status: 'duplicate-in-progress' }>;
    registerLambdaContext?(context: { getRemainingTimeInMillis(): number }): void;
  };
  claims: {
    claim(keys: string[], claimant: string, ttlSeconds: number, options?: { observedAt?: string }): Promise<{ claimed: string[]; alreadyClaimed: { key: string; by: string }[] }>;
    release(keys: string[], claimant: string): Promise<void>;
    /** Marks the violations contained at `resolvedAt`, so the same violation made again later is acted on. */
    resolve?(keys: string[], claimant: string, resolvedAt: string): Promise<void>;
  };
  blastRadius(policy: Policy): {
    tryAcquire(accountId: string, count: number, options?: { speculative?: boolean }): Promise<{ allowed: boolean; used: number; limit: number; firstDenial: boolean; windowStart: string; unavailable?: string }>;
    release(accountId: string, count: number, windowStart: string): Promise<boolean>;
  };
  alerts(policy: Policy): { admit(accountId: string, summaryLine: string): Promise<{ send: boolean }> };
  audit: {
    record(entry: { event: ChangeEvent; plan: Plan; outcomes: StepOutcome[]; decidedAt: string }): Promise<unknown>;
    recordFollowUp?(entry: { followUpOf: string; status: string; detail: string; resources: string[]; decidedAt: string; outcomes?: StepOutcome[] }): Promise<unknown>;
  };
  replacements?: {
    record(entry: ReplacementRecord): Promise<unknown>;
    markTerminationDue?(clientRequestToken: string, details: { newInstanceId: string; terminateAfter: Date }): Promise<unknown>;
  };
}

/** What the responder hands the replacement ledger (functions/aws/state/replacements.ts). */
export type ReplacementRecord = ReplacementInput;

export interface ResponderDeps {
  config: ResponderConfig;
  policy(): Promise<Policy>;
  /** Clients that act in the event's account and region (the member role in Organization mode). */
  clientsFor(target: ClientTarget): AwsClients;
  /** Clients of driftwarden's own account and region: the alert topic and the kill switch live there. */
  homeClients: AwsClients;
  readerFor(clients: AwsClients): ContextReader;
  state: ResponderState;
  /** Optional drift confirmation before a replacement (functions/aws/drift.ts). */
  confirmDrift?(clients: AwsClients, stackName: string, logicalId: string): Promise<{ status: string; differences: { path: string; expected?: unknown; actual?: unknown; type?: string }[] }>;
  readKillSwitch(ssm: AwsClients['ssm'], parameterName: string): Promise<{ engaged: boolean; reason: string }>;
  logger: Logger;
  metrics: Metrics;
  now(): Date;
  sleep?(ms: number): Promise<void>;
}

type Settled<T> = { ok: true; value: T } | { ok: false; error: unknown };
/** Starts a promise now and never lets it reject unobserved. */
const settle = <T>(promise: Promise<T>): Promise<Settled<T>> =>
  promise.then(
    (value) => ({ ok: true as const, value }),
    (error: unknown) => ({ ok: false as const, error }),
  );
const errorText = (error: unknown): string => (error instanceof Error ? `${error.name}: ${error.message}` : String(error));

/** One raw input: an EventBridge event (CloudTrail or Config), as Lambda hands it in. */
export async function respond(input: unknown, deps: ResponderDeps, lambdaContext?: { getRemainingTimeInMillis(): number }): Promise<ResponseSummary> {
  const normalized = normalize(input);
  deps.metrics.addMetric('EventsReceived', MetricUnit.Count, 1);
  if (normalized.rejected) {
    deps.metrics.addMetric('EventsRejected', MetricUnit.Count, 1);
    deps.logger.warn('input rejected', { code: normalized.code, reason: normalized.reason, eventId: normalized.eventId, eventName: normalized.eventName });
    return { status: 'rejected', reason: `${normalized.code}: ${normalized.reason}`, ...(normalized.eventId ? { eventId: normalized.eventId } : {}) };
  }
  const event = normalized.event;
  return respondToChangeEvent(event, deps, { idempotencyKey: idempotencyKey(event), ...(lambdaContext ? { lambdaContext } : {}) });
}

/** The key a live event is deduplicated on (the sweeper passes `sweep:<violation key>`). */
export function idempotencyKey(event: ChangeEvent): string {
  return event.origin === 'config' && !event.id.startsWith('config:') ? `config:${event.id}` : event.id;
}

/**
 * One change event, effectively once. Shared by the responder and the sweeper, so that a live
 * event and a sweep of the same violation meet in the same dedupe store.
 */
export async function respondToChangeEvent(
  event: ChangeEvent,
  deps: ResponderDeps,
  options: { idempotencyKey: string; lambdaContext?: { getRemainingTimeInMillis(): number } },
): Promise<ResponseSummary> {
  const log = { eventId: event.id, eventName: event.eventName, account: event.accountId, region: event.region };
  const policy = await deps.policy();
  const now = deps.now();
  const nowIso = now.toISOString();
  const config = deps.config;
  const mayMutate = config.globalMode === 'enforce' && !policy.dryRun;
  const clients = actingClients(deps, event);
  const reader = deps.readerFor(clients);
  if (options.lambdaContext) deps.state.once.registerLambdaContext?.(options.lambdaContext);

  // What the event alone says (pure, no context): enough to claim the violation and take the
  // allowance for isolation in the same round trip as the reads.
  // A rule that needs context to judge (an unapproved AMI) is assumed to find what it could find:
  // claiming and reserving for a violation that turns out not to be one costs a release later,
  // while waiting for the reads first would cost a round trip before containment.
  const pre = classify(event, policy, emptyContext(nowIso));
  const preliminary = [...pre.findings, ...pre.undetermined.map((u) => possibleFinding(u, event))];
  const speculativeKeys = mayMutate ? violationKeysForFindings(preliminary, event.id) : [];
  const speculativeIsolations = mayMutate ? destructiveActionsToExpect(preliminary, policy) : 0;
  const limiter = deps.state.blastRadius(policy);

  // Round trip 1, all together.
  const evaluation = settle(evaluateNormalized({ rejected: false, event }, { policy, reader, now: nowIso, dryRun: policy.dryRun }));
  const killSwitch = settle(deps.readKillSwitch(deps.homeClients.ssm, killSwitchName(policy, config)));
  const claims = speculativeKeys.length > 0 ? settle(deps.state.claims.claim(speculativeKeys, options.idempotencyKey, CLAIM_TTL_SECONDS, { observedAt: event.time })) : undefined;
  const allowance = speculativeIsolations > 0 ? settle(limiter.tryAcquire(event.accountId, speculativeIsolations, { speculative: true })) : undefined;
  // The isolation groups are among the reads isolation needs: read them now, with the rest.
  // Nothing is kept across invocations; the isolate step judges each group from this answer.
  // Asked for every change to an instance, not only those the event alone says to isolate: a
  // finding that needs context (an unapproved AMI) is known only after the reads.
  const mayIsolate = speculativeIsolations > 0 || (mayMutate && !event.readOnly && event.resources.some((r) => r.type === 'instance'));
  const isolationGroups = mayIsolate ? prefetchDriftwardenGroups(clients.ec2) : undefined;
  isolationGroups?.catch(() => undefined); // a failed prefetch only means a per-VPC lookup

  const once = await deps.state.once.run(options.idempotencyKey, async (): Promise<ResponseSummary> => {
    const evaluated = await evaluation;
    if (!evaluated.ok) throw evaluated.error;
    const ev = evaluated.value;
    if ('rejection' in ev) return { status: 'rejected', reason: ev.rejection.reason };
    const { classification, context } = ev;
    const warnings: string[] = [];

    // Overrides: the deployment's global mode, then the kill switch (read every invocation).
    const overrides: PlanOverrides = {};
    const ks = await killSwitch;
    if (config.globalMode === 'observe') overrides.forceObserve = 'global mode is observe (deployment parameter GlobalMode)';
    if (!ks.ok) overrides.forceObserve = `kill switch unreadable (${errorText(ks.error)}): observing`;
    else if (ks.value.engaged) overrides.forceObserve = `kill switch ${killSwitchName(policy, config)} engaged: ${ks.value.reason}`;
    const replan = (findings: Finding[], extra: PlanOverrides = overrides): Plan =>
      planResponse({ event, classification: { ...classification, findings }, context, policy, dryRun: policy.dryRun, overrides: extra });
    let findings = classification.findings;
    let plan = overrides.forceObserve ? replan(findings) : ev.plan;

    // The allowance taken with the reads (speculative: a denial of it is not yet a denial).
    const spec = allowance ? await allowance : undefined;
    let taken = spec?.ok && spec.value.allowed ? speculativeIsolations : 0;
    let windowStart = spec?.ok && spec.value.allowed ? spec.value.windowStart : undefined;
    const housekeeping: Promise<unknown>[] = [];
    const giveBack = (count: number): void => {
      if (count > 0 && windowStart) housekeeping.push(settle(limiter.release(event.accountId, count, windowStart)));
    };
    const destructiveSteps = (p: Plan): number => (mayMutate ? p.steps.filter((s) => DESTRUCTIVE.has(s.action)).length : 0);

    // Violation claims (act only on what no other delivery is acting on) and whatever allowance
    // the plan needs beyond the speculative one go out together: one round trip, not two.
    const heldHere = new Set<string>();
    let claimsRead = false;
    const byOthers = new Map<string, string>();
    let extra: Settled<Awaited<ReturnType<typeof limiter.tryAcquire>>> | undefined;
    let limitReached: string | undefined;
    if (spec && !spec.ok) limitReached = `blast-radius limit unreadable (${errorText(spec.error)})`;
    else if (spec?.ok && spec.value.unavailable) limitReached = spec.value.unavailable;
    if (mayMutate && hasMutatingSteps(plan)) {
      const wanted = violationKeysForFindings(findings, event.id);
      const speculative = claims ? await claims : undefined;
      claimsRead = true;
      if (speculative && !speculative.ok) throw speculative.error; // fail closed: cannot tell who acts
      for (const key of speculative?.value.claimed ?? []) heldHere.add(key);
      for (const { key, by } of speculative?.value.alreadyClaimed ?? []) byOthers.set(key, by);
      const missing = wanted.filter((k) => !heldHere.has(k) && !byOthers.has(k));
      const shortfall = limitReached ? 0 : destructiveSteps(plan) - taken;
      const [late, more] = await Promise.all([
        missing.length > 0 ? deps.state.claims.claim(missing, options.idempotencyKey, CLAIM_TTL_SECONDS, { observedAt: event.time }) : undefined,
        shortfall > 0 ? settle(limiter.tryAcquire(event.accountId, shortfall)) : undefined,
      ]);
      late?.claimed.forEach((k) => heldHere.add(k));
      late?.alreadyClaimed.forEach(({ key, by }) => byOthers.set(key, by));
      extra = more;
      if (more?.ok && more.value.allowed) {
        taken += shortfall;
        windowStart ??= more.value.windowStart;
      }
      const ours = findings.filter((f) => violationKeysForFindings([f], event.id).some((k) => !byOthers.has(k)));
      if (ours.length < findings.length) {
        const handledBy = [...new Set(byOthers.values())].join(', ');
        if (ours.length === 0) {
          giveBack(taken);
          await Promise.all(housekeeping);
          deps.logger.info('violation already handled by another delivery', { ...log, handledBy });
          return { status: 'duplicate', eventId: event.id, eventName: event.eventName, decision: plan.decision, reason: `already handled by ${handledBy}` };
        }
        warnings.push(`part of this change is already handled by ${handledBy}`);
        findings = ours;
        plan = replan(findings);
      }
    }

    // Blast radius: what the plan needs against what was granted.
    const needed = destructiveSteps(plan);
    let firstDenial = false;
    if (!limitReached && needed > taken) {
      if (extra && !extra.ok) limitReached = `blast-radius limit unreadable (${errorText(extra.error)})`;
      else if (extra?.ok && extra.value.unavailable) limitReached = extra.value.unavailable;
      else {
        firstDenial = extra?.ok === true && extra.value.firstDenial;
        limitReached = `blast-radius limit reached: ${policy.limits.maxDestructiveActions} destructive actions per ${policy.limits.windowMinutes} minutes`;
      }
    }
    if (limitReached && needed > 0) {
      deps.logger.error('blast-radius limit: observing instead of acting', { ...log, reason: limitReached });
      deps.metrics.addMetric('BlastRadiusLimited', MetricUnit.Count, 1);
      plan = replan(findings, { forceObserve: limitReached });
      if (firstDenial) housekeeping.push(settle(sendLimitAlert(deps, event, plan, limitReached)));
      giveBack(taken);
    } else {
      giveBack(taken - needed);
    }

    // Claims this delivery will not act on (taken speculatively, or the plan ended up observing)
    // are given back, so the sweeper or a later delivery can act on them.
    if (claims && !claimsRead) {
      const speculative = await claims;
      if (speculative.ok) speculative.value.claimed.forEach((k) => heldHere.add(k));
    }
    const acting = hasMutatingSteps(plan) ? new Set(violationKeysForFindings(plan.findings, event.id)) : new Set<string>();
    const unusedClaims = [...heldHere].filter((k) => !acting.has(k));
    if (unusedClaims.length > 0) housekeeping.push(settle(deps.state.claims.release(unusedClaims, options.idempotencyKey)));

    // Execute: containment first, then evidence and the alert together, then replacement.
    const hasNotify = plan.steps.some((s) => s.action === 'notify');
    const gate = hasNotify ? deps.state.alerts(policy).admit(event.accountId, alertSummaryLine(event, plan)).then((d) => d.send) : undefined;
    const driftDetails = driftLines(deps, clients, plan, findings);
    const result = await executePlan(plan, {
      clients,
      event,
      policy,
      mutate: mayMutate && !plan.dryRun,
      notify: true,
      ...(config.topicArn ? { topicArn: config.topicArn } : {}),
      now: deps.now,
      ...(deps.sleep ? { sleep: deps.sleep } : {}),
      ...(isolationGroups ? { isolationGroups } : {}),
      alert: {
        ...(gate ? { gate } : {}),
        ...(driftDetails ? { details: driftDetails } : {}),
        actorTrusted: classification.trust.trusted,
        exemptions: { ...policy.exemptions, pipelinePrincipals: policy.trust.pipelinePrincipals },
      },
    });
    const outcomes = result.outcomes;
    // Contained: the claims now say "done at containedAt", so the same violation made again
    // (a rule re-opened a minute later) is a new one, while late copies of this one stay duplicates.
    if (result.containedAt && acting.size > 0 && deps.state.claims.resolve) {
      housekeeping.push(settle(deps.state.claims.resolve([...acting], options.idempotencyKey, result.containedAt)));
    }

    if (result.containmentMs !== undefined) {
      deps.metrics.addMetric('TimeToContainment', MetricUnit.Seconds, result.containmentMs / 1000);
      deps.logger.info('contained', { ...log, containmentMs: result.containmentMs, containedAt: result.containedAt });
    }
    if (outcomes.some((o) => o.action === 'notify' && o.produced?.suppressed === true)) deps.metrics.addMetric('AlertsSuppressed', MetricUnit.Count, 1);
    housekeeping.push(settle(recordReplacements(deps, event, plan, outcomes, nowIso)));

    const audited = await settle(deps.state.audit.record({ event, plan, outcomes, decidedAt: nowIso }));
    if (!audited.ok) {
      deps.metrics.addMetric('AuditWriteFailed', MetricUnit.Count, 1);
      deps.logger.error('audit record not written', { ...log, error: errorText(audited.error) });
      warnings.push(`audit record not written: ${errorText(audited.error)}`);
    }
    await Promise.all(housekeeping);

    const failed = outcomes.filter((o) => o.status === 'failed');
    deps.metrics.addMetric(`Decision_${plan.decision}`, MetricUnit.Count, 1);
    if (failed.length > 0) deps.metrics.addMetric('StepsFailed', MetricUnit.Count, failed.length);
    const summary = summarize(event, plan, outcomes, [...warnings, ...plan.warnings], result.containmentMs);
    deps.logger.info('decision', { ...log, decision: plan.decision, rules: summary.rules, resources: summary.resources, outcomes: summary.outcomes });
    return summary;
  });

  if (once.status === 'processed') {
    if (once.warning) deps.logger.warn('idempotency record incomplete', { ...log, warning: once.warning });
    return once.result;
  }
  // A duplicate: the speculative allowance was not used; give it back.
  const spent = allowance ? await allowance : undefined;
  if (spent?.ok && spent.value.allowed) await settle(limiter.release(event.accountId, speculativeIsolations, spent.value.windowStart));
  deps.metrics.addMetric('DuplicateDeliveries', MetricUnit.Count, 1);
  deps.logger.info('duplicate delivery: nothing done', { ...log, status: once.status });
  return once.status === 'duplicate'
    ? { ...(once.result ?? {}), status: 'duplicate', eventId: event.id }
    : { status: 'duplicate-in-progress', eventId: event.id, eventName: event.eventName };
}

/** The alert topic and the kill switch are in the home account; everything else acts where the event happened. */
function actingClients(deps: ResponderDeps, event: ChangeEvent): AwsClients {
  const member = deps.clientsFor({ accountId: event.accountId, region: event.region });
  if (member === deps.homeClients) return member;
  const home = deps.homeClients;
  return {
    get ec2() { return member.ec2; },
    get autoScaling() { return member.autoScaling; },
    get elbv2() { return member.elbv2; },
    get cloudFormation() { return member.cloudFormation; },
    get ssm() { return member.ssm; },
    get cloudTrail() { return member.cloudTrail; },
    get configService() { return member.configService; },
    get sns() { return home.sns; },
  };
}

/**
 * Destructive actions (blast radius) the preliminary findings would take: per instance, 1 in
 * contain mode (isolate) and 3 in replace mode (isolate, replace, terminate). Over-asking is
 * harmless: the unused part is given back after containment, off the critical path, and a
 * denial of the larger request is retried with the exact count.
 */
function destructiveActionsToExpect(findings: Finding[], policy: Policy): number {
  const instances = new Map<string, number>();
  for (const f of findings) {
    const mode = policy.rules[f.rule]?.mode;
    if (mode !== 'contain' && mode !== 'replace') continue;
    if (f.rule === 'driftwarden-tamper' || f.rule === 'security-group-manual-change' || f.rule === 'admin-port-open-to-world') continue;
    // Launch-time findings are contained, never replaced: one action per instance.
    const weight = mode === 'replace' && !f.launchTime ? 3 : 1;
    for (const r of f.resources) if (r.type === 'instance') instances.set(r.id, Math.max(instances.get(r.id) ?? 0, weight));
  }
  return [...instances.values()].reduce((sum, n) => sum + n, 0);
}

/** The finding an undetermined rule would make if the context confirmed it (launch-time rules only name instances). */
function possibleFinding(u: { rule: Finding['rule']; reason: string; resources: Finding['resources'] }, event: ChangeEvent): Finding {
  const launch = u.rule === 'unapproved-ami' || u.rule === 'ssh-key-material';
  return { id: `${u.rule}:${event.id}`, rule: u.rule, severity: 'HIGH', summary: u.reason, resources: u.resources, ...(launch ? { launchTime: true } : {}) };
}

const hasMutatingSteps = (plan: Plan): boolean => plan.steps.some((s) => s.action !== 'notify');

function alertSummaryLine(event: ChangeEvent, plan: Plan): string {
  const rules = [...new Set(plan.findings.map((f) => f.rule))].join(',');
  const resources = plan.resources.map((r) => r.id).join(',');
  return `${event.time} ${plan.severity ?? ''} ${rules} ${resources} by ${event.actor.name} -> ${plan.decision}`.slice(0, 300);
}

function driftLines(deps: ResponderDeps, clients: AwsClients, plan: Plan, findings: Finding[]): Promise<string[]> | undefined {
  if (!deps.confirmDrift || !findings.some((f) => f.rule === 'instance-manual-change')) return undefined;
  const replaces = plan.steps.filter((s) => s.action === 'replace' && s.via === 'stack');
  if (replaces.length === 0) return undefined;
  return Promise.all(
    replaces.map(async (step) => {
      if (step.action !== 'replace' || !step.stackName) return [];
      const logicalId = plan.findings.length > 0 ? logicalIdOf(plan, step.resource) : undefined;
      if (!logicalId) return [`drift: ${step.resource} has no logical id in ${step.stackName}; not checked`];
      try {
        const drift = await deps.confirmDrift!(clients, step.stackName, logicalId);
        const lines = [`drift detection on ${step.stackName}/${logicalId}: ${drift.status}`];
        for (const d of drift.differences.slice(0, 10)) lines.push(`  ${d.path}: expected ${JSON.stringify(d.expected)}, actual ${JSON.stringify(d.actual)}`);
        return lines;
      } catch (error) {
        return [`drift detection on ${step.stackName}/${logicalId} failed: ${errorText(error)}`];
      }
    }),
  ).then((all) => all.flat());
}

/** The instance's logical id, recorded by the plan in the replace step's reason context. */
function logicalIdOf(plan: Plan, instanceId: string): string | undefined {
  const replace = plan.steps.find((s) => s.action === 'replace' && s.resource === instanceId);
  return replace && replace.action === 'replace' ? replace.logicalId : undefined;
}

/**
 * Hands replacements to the ledger, which the watcher and the sweeper follow to the end:
 * - via a stack: the watcher matches the stack event by its ClientRequestToken, checks the new
 *   instance, then terminates the old one (at once with no hold) or marks it due;
 * - via an Auto Scaling group, under a forensic hold: no stack event will come, so the old
 *   instance is marked due at once (now + hold), and the hourly sweep terminates it.
 */
async function recordReplacements(deps: ResponderDeps, event: ChangeEvent, plan: Plan, outcomes: StepOutcome[], quarantinedAt: string): Promise<void> {
  const ledger = deps.state.replacements;
  if (!ledger) return;
  for (const step of plan.steps) {
    if (step.action !== 'replace') continue;
    const done = outcomes.find((o) => o.action === 'replace' && o.resource === step.resource && (o.status === 'done' || o.status === 'already-done'));
    if (!done) continue;
    const terminate = plan.steps.find((s) => s.action === 'terminate' && s.resource === step.resource);
    const holdSeconds = terminate && terminate.action === 'terminate' ? terminate.holdSeconds : 0;
    const finding = plan.findings.find((f) => f.id === step.findingId);
    const produced = done.produced ?? {};
    const common = {
      findingId: step.findingId,
      eventId: event.id,
      instanceId: step.resource,
      accountId: event.accountId,
      region: event.region,
      holdSeconds,
      force: terminate && terminate.action === 'terminate' ? terminate.force : false,
      quarantinedAt,
      ...(finding ? { rule: finding.rule, severity: finding.severity, summary: finding.summary } : {}),
      actorName: event.actor.name,
    };
    if (step.via === 'stack') {
      await ledger.record({
        ...common,
        clientRequestToken: String(produced.clientRequestToken ?? step.clientRequestToken ?? ''),
        replacementToken: String(produced.replacementToken ?? ''),
        stackName: step.stackName ?? '',
        ...(produced.stackId ? { stackId: String(produced.stackId) } : {}),
        ...(step.logicalId ? { logicalId: step.logicalId } : {}),
      });
      continue;
    }
    // Auto Scaling: terminated now when there is no hold (the terminate step did it).
    if (!terminate || terminate.action !== 'terminate' || terminate.when === 'now' || !ledger.markTerminationDue) continue;
    const token = `${replacementToken(step.findingId)}-asg`.slice(-128).replace(/^[^a-zA-Z]+/, 'd');
    await ledger.record({ ...common, clientRequestToken: token, replacementToken: 'auto-scaling-group', stackName: step.autoScalingGroup ?? 'auto-scaling-group' });
    await ledger.markTerminationDue(token, {
      newInstanceId: `launched by ${step.autoScalingGroup ?? 'its Auto Scaling group'}`,
      terminateAfter: new Date(new Date(quarantinedAt).getTime() + holdSeconds * 1000),
    });
  }
}

async function sendLimitAlert(deps: ResponderDeps, event: ChangeEvent, plan: Plan, reason: string): Promise<void> {
  if (!deps.config.topicArn) return;
  // The one alert of the window that says driftwarden stopped acting: always CRITICAL, whatever
  // the severity of the finding that happened to cross the limit (blast-radius.ts promises it).
  await publishAlert(
    { kind: 'limit-reached', event, plan: { ...plan, severity: 'CRITICAL' }, outcomes: [], details: [reason, 'driftwarden observes (alerts only) until the window ends. Investigate: many destructive actions at once usually means a bad rule or an incident.'] },
    { clients: deps.homeClients, topicArn: deps.config.topicArn },
  );
}

function summarize(event: ChangeEvent, plan: Plan, outcomes: StepOutcome[], warnings: string[], containmentMs?: number): ResponseSummary {
  return {
    status: 'processed',
    eventId: event.id,
    eventName: event.eventName,
    decision: plan.decision,
    rules: [...new Set(plan.findings.map((f) => f.rule))],
    resources: plan.resources.map((r) => r.id),
    outcomes: outcomes.map((o) => ({ action: o.action, resource: o.resource, status: o.status, detail: o.detail.slice(0, 300) })),
    ...(containmentMs !== undefined ? { containmentMs } : {}),
    ...(warnings.length > 0 ? { warnings: [...new Set(warnings)].slice(0, 20) } : {}),
  };
}

/** The deployment's parameter wins over the policy's default, so the template and the switch agree. */
function killSwitchName(policy: Policy, config: ResponderConfig): string {
  return config.killSwitchParameter || policy.killSwitchParameter;
}
