/**
 * What `driftwarden replay` prints for one input, and what it counts for the summary.
 *
 * Shared by the replay in this thread and by the replay workers (replay-worker.ts), so both
 * print exactly the same bytes for the same input: a worker sends back the text this module
 * renders, and the summary counts (`ReplayTally`), which the main thread merges in input order.
 */
import type { StepOutcome } from '../core/decision';
import type { ChangeEvent, Finding, Rejection } from '../core/model';
import type { Evaluation } from '../core/pipeline';
import { renderRow, tableLayout } from '../core/report/table';
import type { ReplayRow, TableOptions } from '../core/report/table';

type EvaluationOf = Exclude<Evaluation, { rejection: Rejection }>;

/** JSON Lines (`--json`), or the table for a terminal of the given width and colour. */
export type OutputFormat = { json: true } | { json: false; table: TableOptions };

/** The summary counts of some inputs; plain data, so a worker can send it to the main thread. */
export interface ReplayTally {
  /** Records read (events and rejected inputs). */
  records: number;
  events: number;
  failedCalls: number;
  byDecision: Record<string, number>;
  byRule: Record<string, number>;
  /** Rejections by code, in the order each code was first seen, with that first input as the example. */
  rejected: { code: string; count: number; example: string }[];
}

export function emptyTally(): ReplayTally {
  return { records: 0, events: 0, failedCalls: 0, byDecision: {}, byRule: {}, rejected: [] };
}

/** Counts one input. */
export function countEvaluation(tally: ReplayTally, source: string, evaluation: Evaluation): void {
  tally.records++;
  if ('rejection' in evaluation) {
    const r = evaluation.rejection;
    const group = tally.rejected.find((g) => g.code === r.code);
    if (group) group.count++;
    else tally.rejected.push({ code: r.code, count: 1, example: r.reason.startsWith(source) ? r.reason : `${source}: ${r.reason}` });
    return;
  }
  const { event, plan } = evaluation;
  tally.events++;
  if (event.failure) tally.failedCalls++;
  tally.byDecision[plan.decision] = (tally.byDecision[plan.decision] ?? 0) + 1;
  const findings = findingsOf(evaluation);
  if (findings.length === 0) return;
  for (const rule of new Set(findings.map((f) => f.rule))) tally.byRule[rule] = (tally.byRule[rule] ?? 0) + 1;
}

/**
 * Adds `later` (the counts of inputs that come after those of `into`) to `into`. The first
 * example of each rejection code stays the earliest one, as in a replay in one thread.
 */
export function mergeTally(into: ReplayTally, later: ReplayTally): void {
  into.records += later.records;
  into.events += later.events;
  into.failedCalls += later.failedCalls;
  for (const [decision, n] of Object.entries(later.byDecision)) into.byDecision[decision] = (into.byDecision[decision] ?? 0) + n;
  for (const [rule, n] of Object.entries(later.byRule)) into.byRule[rule] = (into.byRule[rule] ?? 0) + n;
  for (const group of later.rejected) {
    const known = into.rejected.find((g) => g.code === group.code);
    if (known) known.count += group.count;
    else into.rejected.push({ ...group });
  }
}

/**
 * Renders the output of one input for a format; `renderer(format)` does the layout work once.
 * Table mode prints nothing for a rejected input (the summary counts it).
 */
export function renderer(format: OutputFormat): (source: string, evaluation: Evaluation, outcomes?: StepOutcome[]) => string {
  if (format.json) return (source, evaluation, outcomes) => `${jsonLineText(source, evaluation, outcomes)}\n`;
  const layout = tableLayout(format.table);
  return (_source, evaluation, outcomes) => {
    if ('rejection' in evaluation) return '';
    let text = '';
    for (const line of renderRow(tableRow(evaluation.event, evaluation), layout)) text += `${line}\n`;
    if (outcomes) {
      for (const o of outcomes) text += `    ${o.status === 'failed' ? 'FAILED' : o.status}: ${o.action} ${o.resource}: ${o.detail}\n`;
    }
    return text;
  };
}

/**
 * What the rules found. The plan's findings when it has any; otherwise the classification's,
 * so a change by a trusted actor still shows the rule that matched (decision `trusted`).
 */
export function findingsOf(evaluation: EvaluationOf): Finding[] {
  return evaluation.plan.findings.length > 0 ? evaluation.plan.findings : evaluation.classification.findings;
}

/** The JSON Lines record of one input: enough to diff two replays or feed another tool. */
export function jsonLine(source: string, evaluation: Evaluation, outcomes?: StepOutcome[]): Record<string, unknown> {
  if ('rejection' in evaluation) {
    const r = evaluation.rejection;
    return {
      source,
      eventId: r.eventId ?? null,
      eventName: r.eventName ?? null,
      time: null,
      actor: null,
      findings: [],
      decision: null,
      steps: [],
      rejected: r.reason,
      code: r.code,
    };
  }
  const { event, plan } = evaluation;
  return {
    source,
    eventId: event.id,
    eventName: event.eventName,
    time: event.time,
    account: event.accountId,
    region: event.region,
    actor: { type: event.actor.type, arn: event.actor.arn ?? null, name: event.actor.name, trusted: evaluation.classification.trust.trusted },
    failedCall: event.failure ? event.failure.errorCode : null,
    findings: findingsOf(evaluation).map((f) => ({ rule: f.rule, severity: f.severity, resources: f.resources, summary: f.summary })),
    decision: plan.decision,
    severity: plan.severity ?? null,
    dryRun: plan.dryRun,
    steps: plan.steps.map((s) => ({ action: s.action, resource: s.resource, reason: s.reason })),
    humanActions: plan.humanActions,
    warnings: plan.warnings,
    ...(outcomes ? { outcomes } : {}),
    rejected: null,
  };
}

/** Characters JSON.stringify escapes in a string: quote, backslash, control characters, (lone) surrogates. */
const NOTHING_TO_ESCAPE = /^[^"\\\u0000-\u001f\ud800-\udfff]*$/;

/**
 * `JSON.stringify(value)` for a string. Most strings (ids, names, times, paths) need no
 * escaping: quoting them directly is about three times faster than JSON.stringify.
 */
export const quote = (value: string): string => (NOTHING_TO_ESCAPE.test(value) ? `"${value}"` : JSON.stringify(value));
/** Quotes a string known to need no escaping. */
const quotePlain = (value: string): string => `"${value}"`;
const list = (values: unknown[]): string => (values.length === 0 ? '[]' : JSON.stringify(values));

/**
 * `JSON.stringify(jsonLine(source, evaluation, outcomes))`, byte for byte, without building
 * the intermediate object: a replay prints one of these per record, a million for a large
 * archive. Falls back to `JSON.stringify(jsonLine(…))` for any input whose fields are not of
 * the modelled types (where JSON.stringify would drop an undefined field), so it can never
 * print anything else.
 */
export function jsonLineText(source: string, evaluation: Evaluation, outcomes?: StepOutcome[]): string {
  if ('rejection' in evaluation) return JSON.stringify(jsonLine(source, evaluation, outcomes));
  const { event, plan } = evaluation;
  const { actor } = event;
  const trusted = evaluation.classification.trust.trusted;
  const errorCode = event.failure ? event.failure.errorCode : null;
  if (
    typeof source !== 'string' ||
    typeof event.id !== 'string' ||
    typeof event.eventName !== 'string' ||
    typeof event.time !== 'string' ||
    typeof event.accountId !== 'string' ||
    typeof event.region !== 'string' ||
    typeof actor.type !== 'string' ||
    (actor.arn !== undefined && actor.arn !== null && typeof actor.arn !== 'string') ||
    typeof actor.name !== 'string' ||
    typeof trusted !== 'boolean' ||
    (errorCode !== null && typeof errorCode !== 'string') ||
    typeof plan.decision !== 'string' ||
    (plan.severity !== undefined && plan.severity !== null && typeof plan.severity !== 'string') ||
    typeof plan.dryRun !== 'boolean' ||
    !Array.isArray(plan.steps) ||
    !Array.isArray(plan.humanActions) ||
    !Array.isArray(plan.warnings) ||
    (outcomes !== undefined && !Array.isArray(outcomes))
  ) {
    return JSON.stringify(jsonLine(source, evaluation, outcomes));
  }
  const findings = findingsOf(evaluation);
  const arn = actor.arn ?? null;
  const severity = plan.severity ?? null;
  // One escape test over every string field at once (a character needs escaping alone or not
  // at all, so the test of the whole is the test of each): when none needs it, all are quoted as
  // they are, without a test each.
  const plain = NOTHING_TO_ESCAPE.test(
    `${source}${event.id}${event.eventName}${event.time}${event.accountId}${event.region}${actor.type}${arn ?? ''}${actor.name}${errorCode ?? ''}${plan.decision}${severity ?? ''}`,
  );
  const q = plain ? quotePlain : quote;
  return (
    `{"source":${q(source)},"eventId":${q(event.id)},"eventName":${q(event.eventName)},"time":${q(event.time)}` +
    `,"account":${q(event.accountId)},"region":${q(event.region)}` +
    `,"actor":{"type":${q(actor.type)},"arn":${arn === null ? 'null' : q(arn)},"name":${q(actor.name)},"trusted":${trusted}}` +
    `,"failedCall":${errorCode === null ? 'null' : q(errorCode)}` +
    `,"findings":${findings.length === 0 ? '[]' : JSON.stringify(findings.map((f) => ({ rule: f.rule, severity: f.severity, resources: f.resources, summary: f.summary })))}` +
    `,"decision":${q(plan.decision)},"severity":${severity === null ? 'null' : q(severity)},"dryRun":${plan.dryRun}` +
    `,"steps":${plan.steps.length === 0 ? '[]' : JSON.stringify(plan.steps.map((s) => ({ action: s.action, resource: s.resource, reason: s.reason })))}` +
    `,"humanActions":${list(plan.humanActions)},"warnings":${list(plan.warnings)}` +
    `${outcomes ? `,"outcomes":${JSON.stringify(outcomes)}` : ''},"rejected":null}`
  );
}

function tableRow(event: ChangeEvent, evaluation: EvaluationOf): ReplayRow {
  const { plan } = evaluation;
  const resources = plan.resources.length > 0 ? plan.resources : event.resources;
  return {
    time: event.time,
    actor: event.actor.name,
    event: event.failure ? `${event.eventName} (${event.failure.errorCode})` : event.eventName,
    rules: [...new Set(findingsOf(evaluation).map((f) => f.rule))],
    severity: plan.severity,
    resources: resources.map((r) => r.id),
    decision: plan.decision,
    steps: plan.steps.map((s) => `${s.action} ${s.resource}`),
  };
}
