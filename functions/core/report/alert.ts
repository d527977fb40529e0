/**
 * The alert formatter. Pure: the event, its plan and the step outcomes in, one SNS message
 * (MessageStructure json) out.
 *
 * - `subject`: one line under 100 characters (SNS's limit): severity, rule, resource, actor, outcome.
 * - `default` / `email`: the human text, written for a security engineer on a phone at 3 a.m.:
 *   what happened, who, when and where, what driftwarden did (failures first), what is left for
 *   a human, links, and how to release or exempt.
 * - `sms`: one line of at most 140 characters.
 * - every machine protocol (sqs, lambda, http(s), firehose, application): the versioned JSON
 *   document `driftwarden.alert/v1`.
 *
 * Access key ids never appear in any rendering: everything is passed through `redactSecrets`.
 */
import type { Decision, Plan, StepOutcome, StepStatus } from '../decision';
import type { ChangeEvent, ResourceRef, RuleId, Severity } from '../model';
import { SEVERITY_ORDER } from '../model';
import { oneLine, redactSecrets, truncate } from './text';
import type { AlertInput, AlertKind, AlertMessage } from './types';

export const ALERT_SCHEMA = 'driftwarden.alert/v1';
/** SNS: a subject is one line of fewer than 100 characters. */
export const MAX_SUBJECT_LENGTH = 99;
export const MAX_SMS_LENGTH = 140;
/**
 * A step detail (often an AWS error message) is cut to this many characters: the message is
 * sent once per protocol, and SNS refuses messages over 256 KB.
 */
const MAX_DETAIL_LENGTH = 500;
/** Protocols that receive the JSON document rather than the human text. */
export const MACHINE_PROTOCOLS = ['sqs', 'lambda', 'http', 'https', 'firehose', 'application'] as const;

/** The schema defaults, used when the caller does not pass the policy's exemption settings. */
const DEFAULT_EXEMPTIONS = {
  tag: 'driftwarden:exempt-until',
  reasonTag: 'driftwarden:exempt-reason',
  setters: [] as string[],
  maxDurationDays: 7,
};

export interface AlertStep {
  action: string;
  resource: string;
  status: StepStatus | 'planned';
  detail: string;
}

/** The machine-readable alert, as sent to every non-human protocol. */
export interface AlertDocument {
  schema: typeof ALERT_SCHEMA;
  kind: AlertKind;
  findingIds: string[];
  severity: Severity;
  rules: RuleId[];
  decision: Decision;
  dryRun: boolean;
  account: string;
  region: string;
  event: { id: string; name: string; time: string; source: string };
  actor: { type: string; arn: string | null; name: string; trusted: boolean; sourceIp: string | null };
  resources: ResourceRef[];
  steps: AlertStep[];
  humanActions: string[];
  warnings: string[];
  details: string[];
  links: { console: string | null; cloudtrail: string; resources: Record<string, string> };
}

export function buildAlert(input: AlertInput): AlertMessage {
  const facts = alertFacts(input);
  const document = buildDocument(input, facts);
  const email = redactSecrets(renderEmail(input, facts));
  const sms = renderOneLine(facts, MAX_SMS_LENGTH);
  const machine = redactSecrets(JSON.stringify(document));

  const short = redactSecrets(renderShort(input, facts));
  const structure: Record<string, string> = { default: short, email, sms };
  for (const protocol of MACHINE_PROTOCOLS) structure[protocol] = machine;

  const attribute = (value: string) => ({ DataType: 'String' as const, StringValue: oneLine(value) || 'none' });
  return {
    subject: renderOneLine(facts, MAX_SUBJECT_LENGTH),
    message: JSON.stringify(structure),
    attributes: {
      severity: attribute(facts.severity),
      rule: attribute(facts.rules[0] ?? 'none'),
      rules: attribute(facts.rules.join(',') || 'none'),
      account: attribute(input.event.accountId || 'unknown'),
      region: attribute(input.event.region || 'unknown'),
      action: attribute(input.plan.decision),
      kind: attribute(input.kind),
    },
  };
}

/** What every rendering agrees on, computed once. */
interface AlertFacts {
  severity: Severity;
  rules: RuleId[];
  primary?: ResourceRef;
  steps: AlertStep[];
  failed: AlertStep[];
  trusted: boolean;
  actorName: string;
  outcome: string;
}

function alertFacts(input: AlertInput): AlertFacts {
  const { plan } = input;
  const rules = unique(plan.findings.map((f) => f.rule));
  const severity = plan.severity ?? highestSeverity(plan.findings.map((f) => f.severity)) ?? 'LOW';
  const primary = plan.resources[0] ?? plan.findings.flatMap((f) => f.resources)[0] ?? input.event.resources[0];
  const steps = alertSteps(plan, input.outcomes);
  const failed = steps.filter((s) => s.status === 'failed');
  return {
    severity,
    rules,
    primary,
    steps,
    failed,
    trusted: input.actorTrusted ?? plan.decision === 'trusted',
    actorName: input.event.actor.name,
    outcome: outcomeWord(input, failed.length),
  };
}

function alertSteps(plan: Plan, outcomes: StepOutcome[]): AlertStep[] {
  if (outcomes.length > 0) {
    return outcomes.map((o) => ({ action: o.action, resource: o.resource, status: o.status, detail: truncate(oneLine(o.detail), MAX_DETAIL_LENGTH) }));
  }
  return plan.steps.map((s) => ({
    action: s.action,
    resource: s.resource,
    status: plan.dryRun ? 'skipped' : 'planned',
    detail: plan.dryRun ? `dry run, not run: ${s.reason}` : s.reason,
  }));
}

const DECISION_WORDS: Record<Decision, string> = {
  'no-finding': 'no finding',
  trusted: 'trusted',
  'failed-call': 'attempt failed',
  off: 'rule off',
  exempt: 'exempt',
  observe: 'observed',
  contain: 'contained',
  replace: 'replacing',
  quarantined: 'already quarantined',
  held: 'HELD, not acted',
};

const KIND_WORDS: Partial<Record<AlertKind, string>> = {
  replaced: 'replaced',
  'replacement-failed': 'REPLACEMENT FAILED',
  incomplete: 'INCOMPLETE',
  'limit-reached': 'LIMIT REACHED, observing',
  summary: 'summary',
  tamper: 'TAMPER',
};

function outcomeWord(input: AlertInput, failures: number): string {
  let word = KIND_WORDS[input.kind] ?? DECISION_WORDS[input.plan.decision];
  if (input.kind === 'tamper') word = `TAMPER, ${DECISION_WORDS[input.plan.decision]}`;
  if (input.plan.dryRun && (input.plan.decision === 'contain' || input.plan.decision === 'replace')) word = `dry run, would be ${word}`;
  if (failures > 0) word += `, ${failures} step${failures > 1 ? 's' : ''} FAILED`;
  return word;
}

/**
 * `[HIGH] admin-port-open-to-world sg-0abc by alice — contained`, cut to `max` characters.
 * The severity and the outcome are kept whole; the rule, resource and actor shrink first.
 */
function renderOneLine(facts: AlertFacts, max: number): string {
  const head = `[${facts.severity}]`;
  const tail = ` — ${oneLine(facts.outcome)}`;
  const rule = facts.rules.length > 1 ? `${facts.rules[0]} +${facts.rules.length - 1}` : (facts.rules[0] ?? 'no rule');
  const resource = oneLine(facts.primary?.id ?? 'unknown resource');
  const actorName = oneLine(facts.actorName || 'unknown');
  const build = (r: string, res: string, a: string) => `${head} ${r} ${res} by ${a}${tail}`;
  let line = build(rule, resource, actorName);
  if (line.length <= max) return line;
  // Shrink the long, free-form parts first: actor names and resource ids can be anything.
  for (const limit of [40, 28, 20, 14, 10]) {
    line = build(truncate(rule, limit + 10), truncate(resource, limit), truncate(actorName, limit));
    if (line.length <= max) return line;
  }
  return truncate(line, max);
}

function buildDocument(input: AlertInput, facts: AlertFacts): AlertDocument {
  const { event, plan } = input;
  const resourceLinks: Record<string, string> = {};
  for (const ref of plan.resources.length > 0 ? plan.resources : event.resources) {
    const link = consoleLink(ref, event.region);
    if (link) resourceLinks[ref.id] = link;
  }
  return {
    schema: ALERT_SCHEMA,
    kind: input.kind,
    findingIds: plan.findings.map((f) => f.id),
    severity: facts.severity,
    rules: facts.rules,
    decision: plan.decision,
    dryRun: plan.dryRun,
    account: event.accountId,
    region: event.region,
    event: { id: event.id, name: event.eventName, time: event.time, source: event.eventSource },
    actor: {
      type: event.actor.type,
      arn: event.actor.arn ?? null,
      name: event.actor.name,
      trusted: facts.trusted,
      sourceIp: event.actor.sourceIp ?? null,
    },
    resources: plan.resources.length > 0 ? plan.resources : event.resources,
    steps: facts.steps,
    humanActions: leftForHuman(input, facts),
    warnings: plan.warnings,
    details: input.details ?? [],
    links: {
      console: facts.primary ? (consoleLink(facts.primary, event.region) ?? null) : null,
      cloudtrail: cloudTrailLink(event),
      resources: resourceLinks,
    },
  };
}

const FOLLOW_UP_HEADLINES: Partial<Record<AlertKind, string>> = {
  replaced: 'UPDATE: the tainted instance was replaced.',
  'replacement-failed': 'UPDATE: the replacement FAILED. The tainted resource is still contained, not replaced.',
  incomplete: 'UPDATE: the response is INCOMPLETE. Some steps did not finish.',
  'limit-reached': 'UPDATE: the destructive-action limit was reached. driftwarden is only observing until the window ends.',
  summary: 'SUMMARY of alerts folded while the alert limit was reached.',
  tamper: "TAMPERING with driftwarden's controls, the trail or Config.",
};

function renderEmail(input: AlertInput, facts: AlertFacts): string {
  const { event, plan } = input;
  const actor = event.actor;
  const lines: string[] = [];
  const section = (title: string) => lines.push('', title);

  // WHAT happened: the first thing on the screen.
  const headline = FOLLOW_UP_HEADLINES[input.kind];
  if (headline) lines.push(headline);
  if (plan.findings.length === 0) {
    lines.push(`WHAT: ${event.eventName} (${DECISION_WORDS[plan.decision]}).`);
  } else {
    for (const f of plan.findings) lines.push(`WHAT: [${f.severity}] ${f.rule}: ${oneLine(f.summary)}`);
  }
  if (event.failure) {
    lines.push(`The call FAILED (${event.failure.errorCode}) and changed nothing: this was an attempt.`);
  }
  if (input.details && input.details.length > 0) {
    lines.push('Since the first alert:');
    for (const d of input.details) lines.push(`  - ${oneLine(d)}`);
  }
  lines.push(`WHO: ${actor.name} (${actor.type})${actor.arn ? ` ${actor.arn}` : ''}`);
  const whoMore: string[] = [];
  if (actor.sourceIp) whoMore.push(`from ${actor.sourceIp}`);
  if (actor.invokedBy) whoMore.push(`via ${actor.invokedBy}`);
  if (actor.issuerArn && actor.issuerArn !== actor.arn) whoMore.push(`role ${actor.issuerArn}`);
  whoMore.push(facts.trusted ? 'trusted actor' : 'not a trusted actor');
  lines.push(`     ${whoMore.join(', ')}`);
  lines.push(`WHEN: ${event.time}`);
  lines.push(`WHERE: account ${event.accountId}, region ${event.region}`);
  lines.push(`EVENT: ${event.eventName} (${event.eventSource}), id ${event.id}`);
  if (plan.findings.length > 0) lines.push(`FINDING IDS: ${plan.findings.map((f) => f.id).join(', ')}`);

  section('WHAT DRIFTWARDEN DID');
  lines.push(`Decision: ${plan.decision}${plan.mode ? ` (mode ${plan.mode})` : ''}${plan.dryRun ? '. DRY RUN: nothing was changed.' : '.'}`);
  // Failures first, and plainly: they are what needs a human now.
  const ordered = [...facts.failed, ...facts.steps.filter((s) => s.status !== 'failed')];
  if (ordered.length === 0) lines.push('No action was taken.');
  for (const s of ordered) {
    const label = s.status === 'failed' ? 'FAILED' : s.status;
    lines.push(`  - ${label}: ${s.action} ${s.resource}: ${oneLine(s.detail)}`);
  }

  section('WHAT IS LEFT FOR A HUMAN');
  const left = leftForHuman(input, facts);
  if (left.length === 0) lines.push('Nothing.');
  for (const item of left) lines.push(`  - ${item}`);
  for (const w of plan.warnings) lines.push(`  - Warning: ${oneLine(w)}`);

  section('LINKS');
  const refs = plan.resources.length > 0 ? plan.resources : event.resources;
  for (const ref of refs) {
    const link = consoleLink(ref, event.region);
    if (link) lines.push(`  ${ref.id}: ${link}`);
  }
  lines.push(`  CloudTrail event: ${cloudTrailLink(event)}`);

  section('RELEASE OR EXEMPT');
  const quarantined = quarantinedInstances(input);
  for (const id of quarantined) lines.push(`  Release ${id} after review: driftwarden release ${id}`);
  const ex = input.exemptions ?? DEFAULT_EXEMPTIONS;
  const until = exampleExemptUntil(event.time);
  lines.push(`  Exempt a resource (break glass, at most ${ex.maxDurationDays} days): tag it`);
  lines.push(`    ${ex.tag}=${until ?? '<ISO-8601 time>'}`);
  lines.push(`    ${ex.reasonTag}=<why, ticket>`);
  const setters = [...(input.exemptions?.pipelinePrincipals ?? []), ...ex.setters];
  lines.push(
    setters.length > 0
      ? `  Only these principals may set it (others are ignored): ${setters.join(', ')}`
      : '  Only the pipeline principals and exemptions.setters in the policy may set it; an exemption set by anyone else is ignored.',
  );
  return lines.join('\n');
}

/** `default`: a few lines for protocols with no rendering of their own (what, who, where, outcome, link). */
function renderShort(input: AlertInput, facts: AlertFacts): string {
  const { event, plan } = input;
  const lines = [renderOneLine(facts, 200)];
  for (const f of plan.findings) lines.push(oneLine(f.summary));
  lines.push(`By ${event.actor.name}${event.actor.arn ? ` (${event.actor.arn})` : ''}${event.actor.sourceIp ? ` from ${event.actor.sourceIp}` : ''}`);
  lines.push(`At ${event.time} in account ${event.accountId}, region ${event.region}`);
  for (const s of facts.failed) lines.push(`FAILED: ${s.action} ${s.resource}: ${oneLine(s.detail)}`);
  lines.push(`CloudTrail: ${cloudTrailLink(event)}`);
  return lines.join('\n');
}

/** The policy's human actions, then the failures, then the known limits of isolation. */
function leftForHuman(input: AlertInput, facts: AlertFacts): string[] {
  const left = input.plan.humanActions.map(oneLine);
  for (const f of facts.failed) left.push(`Finish by hand: ${f.action} ${f.resource} failed (${oneLine(f.detail)}).`);
  const isolated = facts.steps.some((s) => s.action === 'isolate-instance' && (s.status === 'done' || s.status === 'already-done'));
  if (isolated) {
    left.push('Flows tracked by a NAT gateway or NLB may survive isolation: check and reset them if the instance is still reachable.');
  }
  if (input.plan.decision === 'held') left.push('driftwarden did NOT act because it could not read what it needed: decide by hand.');
  return left;
}

function quarantinedInstances(input: AlertInput): string[] {
  const ids = input.plan.steps
    .filter((s) => s.action === 'isolate-instance' || s.action === 'tag' || s.action === 'detach')
    .map((s) => s.resource)
    .filter((id) => id.startsWith('i-'));
  return unique(ids);
}

/** An example "until" value: one day after the event, so the example is a real, valid time. */
function exampleExemptUntil(eventTime: string): string | undefined {
  const t = Date.parse(eventTime);
  if (Number.isNaN(t)) return undefined;
  return new Date(t + 24 * 3600 * 1000).toISOString().replace(/\.\d{3}Z$/, 'Z');
}

function consoleHost(region: string): string {
  if (region.startsWith('cn-')) return `https://${region}.console.amazonaws.cn`;
  if (region.startsWith('us-gov-')) return `https://${region}.console.amazonaws-us-gov.com`;
  return `https://${region}.console.aws.amazon.com`;
}

/** A console deep link for one resource in its region (EC2/VPC console, CloudFormation). */
export function consoleLink(ref: ResourceRef, region: string): string | undefined {
  const host = consoleHost(region);
  const r = encodeURIComponent(region);
  const id = encodeURIComponent(ref.id);
  switch (ref.type) {
    case 'security-group':
      return `${host}/ec2/home?region=${r}#SecurityGroup:groupId=${id}`;
    case 'instance':
      return `${host}/ec2/home?region=${r}#InstanceDetails:instanceId=${id}`;
    case 'image':
      return `${host}/ec2/home?region=${r}#ImageDetails:imageId=${id}`;
    case 'key-pair':
      return `${host}/ec2/home?region=${r}#KeyPairs:search=${id}`;
    case 'launch-template':
      return `${host}/ec2/home?region=${r}#LaunchTemplateDetails:launchTemplateId=${id}`;
    case 'stack':
      return `${host}/cloudformation/home?region=${r}#/stacks?filteringText=${id}`;
    default:
      return undefined;
  }
}

/** The CloudTrail event-history page of the event (Config items link to the event history search). */
export function cloudTrailLink(event: ChangeEvent): string {
  const host = consoleHost(event.region);
  const r = encodeURIComponent(event.region);
  return `${host}/cloudtrail/home?region=${r}#/events/${encodeURIComponent(event.id)}`;
}

function highestSeverity(severities: Severity[]): Severity | undefined {
  let best: Severity | undefined;
  for (const s of severities) if (!best || SEVERITY_ORDER[s] > SEVERITY_ORDER[best]) best = s;
  return best;
}

function unique<T>(values: T[]): T[] {
  return [...new Set(values)];
}
