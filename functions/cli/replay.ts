/**
 * `driftwarden replay`: run recorded events through the same core the Lambda runs.
 *
 * Dry-run unless `execute` is set. Streams file by file and event by event, in input order:
 * one JSON line per input with `--json`, else one table row per event, then the summary.
 * Without an account snapshot every lookup is "unknown", so plans fail closed (held), and
 * the summary says why.
 */
import { resolve } from 'node:path';
import { SingleBar } from 'cli-progress';
import type { ContextReader } from '../core/context';
import type { StepOutcome } from '../core/decision';
import type { ChangeEvent, Finding, Rejection } from '../core/model';
import type { Evaluation } from '../core/pipeline';
import type { Policy } from '../core/policy/schema';
import { renderHeader, renderRow, renderSummary, tableLayout } from '../core/report/table';
import type { ReplayRow, ReplaySummary } from '../core/report/table';
import type { AwsRuntime, CliDeps } from './deps';
import { listInputFiles, readInputs } from './inputs';
import type { InputFile } from './inputs';
import { BufferedWriter, readLine, useColor } from './io';
import type { CliIo } from './io';
import { NO_SNAPSHOT_REASON, UnknownContextReader } from './unknown-reader';

export interface ReplayOptions {
  paths: string[];
  policy?: string;
  account?: string;
  json: boolean;
  execute: boolean;
  yes: boolean;
}

/** Progress is shown only on a terminal, and only when the input is large enough to wait for. */
const PROGRESS_MIN_FILES = 6;
const PROGRESS_MIN_RECORDS = 2000;

/** A user-facing failure: printed as is, exit code 1 (2 for bad usage). */
export class CliFailure extends Error {
  constructor(
    message: string,
    readonly exitCode = 1,
  ) {
    super(message);
  }
}

/** A plan the executor has something to do for (containment, replacement, or an alert). */
const hasWork = (evaluation: Evaluation): evaluation is EvaluationOf => !('rejection' in evaluation) && evaluation.plan.steps.length > 0;

export async function replay(options: ReplayOptions, io: CliIo, deps: CliDeps): Promise<number> {
  const warn = (line: string) => io.stderr.write(`driftwarden: ${line}\n`);

  // Refuse before touching anything: an unattended --execute must be explicit.
  if (options.execute && !options.yes && io.stdin.isTTY !== true) {
    throw new CliFailure('replay --execute needs confirmation, and stdin is not a terminal: pass --yes to execute without asking.');
  }

  const policy = await deps.loadPolicy(options.policy);
  const skipped: string[] = [];
  // The snapshot and the policy often sit in the folder being replayed (events/): they are not events.
  const notInputs = new Set([options.account, options.policy].filter((p): p is string => p !== undefined).map((p) => resolve(p)));
  const files = (
    await listInputFiles(options.paths, (file, why) => {
      if (notInputs.has(resolve(file))) return;
      skipped.push(file);
      warn(`skipping ${file}: ${why}`);
    })
  ).filter((file) => !notInputs.has(resolve(file.path)));

  const notices: string[] = [];
  let reader: ContextReader;
  let runtime: AwsRuntime | undefined;
  if (options.execute) {
    runtime = await deps.aws({});
    reader = runtime.reader;
    notices.push(`executed against account ${runtime.target.account} in ${runtime.target.region}`);
  } else if (options.account) {
    reader = await deps.snapshotReader(options.account);
    notices.push(`dry run: context from snapshot ${options.account}; nothing was changed`);
  } else {
    reader = new UnknownContextReader();
    notices.push(`dry run: ${NO_SNAPSHOT_REASON}, so every plan that needs context is held`);
  }
  // A snapshot is the account as it stood at `capturedAt`: decide as of then, so a replay gives
  // the same decisions tomorrow (exemptions and AMI ages do not drift with the wall clock).
  const capturedAt = (reader as { snapshot?: { capturedAt?: string } }).snapshot?.capturedAt;
  const now = !options.execute && capturedAt ? new Date(capturedAt).toISOString() : io.now().toISOString();

  if (runtime && !options.yes) {
    // Count first (a pass that plans but executes nothing, through the same reader), then ask.
    let count = 0;
    // Planned as for real (dryRun false) so the count is what will run; nothing is executed here.
    await forEachEvaluation(files, policy, reader, now, false, deps, undefined, (_source, evaluation) => {
      if (hasWork(evaluation) && !evaluation.plan.dryRun) count++;
    });
    io.stderr.write(`Execute ${count} plans against account ${runtime.target.account} (${runtime.target.region})? [y/N] `);
    const answer = (await readLine(io.stdin))?.trim().toLowerCase();
    if (answer !== 'y' && answer !== 'yes') {
      io.stderr.write('\nNot executed.\n');
      return 1;
    }
  }

  const out = new BufferedWriter(io.stdout);
  const color = useColor(io.stdout, io.env);
  const width = terminalWidth(io);
  const layout = tableLayout({ width, color });
  if (!options.json) for (const line of renderHeader(layout)) await out.write(`${line}\n`);

  const summary: ReplaySummary = {
    files: files.length,
    skippedFiles: skipped,
    records: 0,
    events: 0,
    rejected: [],
    byRule: {},
    byDecision: {},
    failedCalls: 0,
    notices,
  };
  const rejectedByCode = new Map<string, { code: string; count: number; example: string }>();
  // On a terminal the table itself shows progress; a bar redrawn between its rows would garble both.
  const progress = new Progress(io, files, options.json || io.stdout.isTTY !== true);

  await forEachEvaluation(files, policy, reader, now, !options.execute, deps, progress, async (source, evaluation) => {
    summary.records++;
    progress.record();
    let outcomes: StepOutcome[] | undefined;
    if ('rejection' in evaluation) {
      const r = evaluation.rejection;
      const example = r.reason.startsWith(source) ? r.reason : `${source}: ${r.reason}`;
      const group = rejectedByCode.get(r.code) ?? { code: r.code, count: 0, example };
      group.count++;
      rejectedByCode.set(r.code, group);
    } else {
      const { event, plan } = evaluation;
      summary.events++;
      if (event.failure) summary.failedCalls++;
      summary.byDecision[plan.decision] = (summary.byDecision[plan.decision] ?? 0) + 1;
      for (const rule of new Set(findingsOf(evaluation).map((f) => f.rule))) summary.byRule[rule] = (summary.byRule[rule] ?? 0) + 1;
      if (runtime && hasWork(evaluation) && !plan.dryRun) {
        const { account, region } = runtime.target;
        outcomes =
          event.accountId === account && event.region === region
            ? await runtime.execute(plan, event, policy)
            : plan.steps.map((s) => ({
                action: s.action,
                resource: s.resource,
                status: 'skipped' as const,
                detail: `event is for account ${event.accountId} in ${event.region}; this run acts only on ${account} in ${region}`,
              }));
      }
    }
    if (options.json) {
      await out.write(`${JSON.stringify(jsonLine(source, evaluation, outcomes))}\n`);
    } else if (!('rejection' in evaluation)) {
      for (const line of renderRow(tableRow(evaluation.event, evaluation), layout)) await out.write(`${line}\n`);
      if (outcomes) {
        for (const o of outcomes) await out.write(`    ${o.status === 'failed' ? 'FAILED' : o.status}: ${o.action} ${o.resource}: ${o.detail}\n`);
      }
    }
  });
  progress.stop();

  summary.rejected = [...rejectedByCode.values()];
  if (options.json) {
    // stdout stays pure JSON Lines; the summary goes to stderr.
    io.stderr.write(`${renderSummary(summary, { width: io.stderr.columns ?? 120, color: false }).join('\n')}\n`);
  } else {
    for (const line of renderSummary(summary, { width, color })) await out.write(`${line}\n`);
  }
  await out.flush();
  return 0;
}

/** The terminal's width; COLUMNS when stdout is not a terminal; else 120. */
function terminalWidth(io: CliIo): number {
  const fromEnv = Number.parseInt(io.env.COLUMNS ?? '', 10);
  return io.stdout.columns ?? (Number.isFinite(fromEnv) && fromEnv > 0 ? fromEnv : 120);
}

type EvaluationOf = Exclude<Evaluation, { rejection: Rejection }>;

async function forEachEvaluation(
  files: InputFile[],
  policy: Policy,
  reader: ContextReader,
  now: string,
  dryRun: boolean,
  deps: CliDeps,
  progress: Progress | undefined,
  visit: (source: string, evaluation: Evaluation) => void | Promise<void>,
): Promise<void> {
  for (const file of files) {
    for await (const item of readInputs(file, (bytes) => progress?.bytes(bytes))) {
      const evaluation: Evaluation =
        'rejection' in item ? { rejection: item.rejection } : await deps.evaluate(item.value, { policy, reader, now, dryRun });
      await visit(item.source, evaluation);
    }
    progress?.fileDone(file);
  }
}

/**
 * What the rules found. The plan's findings when it has any; otherwise the classification's,
 * so a change by a trusted actor still shows the rule that matched (decision `trusted`).
 */
function findingsOf(evaluation: EvaluationOf): Finding[] {
  return evaluation.plan.findings.length > 0 ? evaluation.plan.findings : evaluation.classification.findings;
}

function actorTrusted(evaluation: EvaluationOf): boolean {
  return evaluation.classification.trust.trusted;
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
    actor: { type: event.actor.type, arn: event.actor.arn ?? null, name: event.actor.name, trusted: actorTrusted(evaluation) },
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

/**
 * The progress bar, on stderr so stdout stays clean. It starts only on a terminal, and only
 * once the input is large: more than 5 files, or more than 2,000 records.
 */
class Progress {
  private bar: SingleBar | undefined;
  private records = 0;
  private done = 0;
  private readonly total: number;
  private readonly enabled: boolean;

  constructor(
    private readonly io: CliIo,
    files: InputFile[],
    allowed: boolean,
  ) {
    this.total = files.reduce((n, f) => n + f.size, 0);
    this.enabled = allowed && io.stderr.isTTY === true && this.total > 0;
    if (this.enabled && files.length >= PROGRESS_MIN_FILES) this.start();
  }

  private start(): void {
    if (this.bar) return;
    this.bar = new SingleBar(
      {
        stream: this.io.stderr as NodeJS.WritableStream,
        format: 'replay [{bar}] {percentage}% | {records} records',
        hideCursor: true,
        clearOnComplete: true,
        etaBuffer: 50,
        fps: 5,
      },
      undefined,
    );
    this.bar.start(this.total, this.done, { records: this.records });
  }

  record(): void {
    this.records++;
    if (!this.enabled) return;
    if (!this.bar && this.records > PROGRESS_MIN_RECORDS) this.start();
    if (this.bar && this.records % 500 === 0) this.bar.update(this.done, { records: this.records });
  }

  bytes(n: number): void {
    this.done = Math.min(this.total, this.done + n);
    this.bar?.update(this.done, { records: this.records });
  }

  fileDone(_file: InputFile): void {
    this.bar?.update(this.done, { records: this.records });
  }

  stop(): void {
    this.bar?.stop();
  }
}
