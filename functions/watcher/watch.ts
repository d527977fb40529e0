/**
 * The replacement watcher: follows the stack updates driftwarden started (ClientRequestToken
 * `driftwarden-…`, recorded in the replacement ledger by the responder) to their end state.
 *
 * - UPDATE_COMPLETE: the replacement is in service (the contract's CreationPolicy makes it
 *   so). The new instance is checked before it is trusted: it must be a different, running
 *   instance that carries this replacement's token, launched from an approved image, with no
 *   key pair, no quarantine mark and no isolation group. Healthy: the tainted instance is
 *   terminated at once when the hold is 0, otherwise it is recorded as due at the end of the
 *   hold (the hourly sweep terminates it), and a `replaced` alert names both instances.
 *   Unhealthy or unverifiable: the quarantine is kept, nothing is terminated, CRITICAL alert.
 * - UPDATE_ROLLBACK_* and *_FAILED: the quarantine is kept, CRITICAL alert with the stack's
 *   reason and the first failed resource's reason (DescribeStackEvents).
 * - A token the ledger does not know is logged and ignored: driftwarden never acts on a stack
 *   operation it did not start. A duplicate delivery finds the transition already made (the
 *   ledger's conditional updates) and does nothing; termination is idempotent anyway.
 *
 * Why no EventBridge Scheduler schedule at the end of the hold: the hourly sweep already
 * terminates due instances, a forensic hold is a minimum rather than an exact time, and a
 * second road to TerminateInstances would need scheduler:CreateSchedule and iam:PassRole on
 * a scheduler role for little gain. A hold ends at most one sweep interval late.
 */
import { DescribeStackEventsCommand, DescribeStackResourcesCommand, type StackEvent } from '@aws-sdk/client-cloudformation';
import type { Instance } from '@aws-sdk/client-ec2';
import type { Plan, StepOutcome } from '../core/decision';
import type { ChangeEvent, Finding, ResourceRef, RuleId, Severity } from '../core/model';
import { RULE_IDS } from '../core/model';
import type { Policy } from '../core/policy/schema';
import type { AlertKind } from '../core/report/types';
import { amiApprovalConfigured, judgeImage } from '../core/rules/unapproved-ami';
import { emptyContext } from '../core/context';
import { describeAwsError } from '../aws/aws-errors';
import type { AwsClients, ClientTarget } from '../aws/clients';
import { AwsContextReader, tagsToRecord } from '../aws/context-reader';
import { describeInstance } from '../aws/instances';
import type { ReplacementLedger, ReplacementRecord } from '../aws/state/replacements';
import { publishAlert } from '../aws/steps/notify';
import { isolationGroupName, untrackGroupName } from '../aws/steps/isolation-group';
import { terminateInstance } from '../aws/steps/terminate';

export const REPLACEMENT_TOKEN_TAG = 'driftwarden:replacement-token';
export const CLIENT_REQUEST_TOKEN_PREFIX = 'driftwarden-';
export const STACK_STATUS_DETAIL_TYPE = 'CloudFormation Stack Status Change';

/** The watcher's own reads, beside the steps it shares (terminate, notify, context). */
export const IAM_ACTIONS = ['cloudformation:DescribeStackResources', 'cloudformation:DescribeStackEvents', 'ec2:DescribeInstances'] as const;

/** One CloudFormation stack status change, as the watcher reads it. */
export interface StackStatusChange {
  stackId: string;
  status: string;
  statusReason?: string;
  clientRequestToken: string;
  accountId?: string;
  region?: string;
  /** ISO-8601, the event's time. */
  time?: string;
}

export type ParsedStackEvent = { ok: true; change: StackStatusChange } | { ok: false; reason: string };

/** Reads an EventBridge "CloudFormation Stack Status Change" event. Never throws. */
export function parseStackStatusEvent(input: unknown): ParsedStackEvent {
  if (!input || typeof input !== 'object' || Array.isArray(input)) return { ok: false, reason: 'the event is not a JSON object' };
  const event = input as Record<string, unknown>;
  if (event['detail-type'] !== STACK_STATUS_DETAIL_TYPE) {
    return { ok: false, reason: `unsupported detail-type ${JSON.stringify(event['detail-type'] ?? null)}: the watcher reads "${STACK_STATUS_DETAIL_TYPE}" only` };
  }
  const detail = event.detail;
  if (!detail || typeof detail !== 'object') return { ok: false, reason: 'the event has no detail object' };
  const d = detail as Record<string, unknown>;
  const statusDetails = (d['status-details'] ?? {}) as Record<string, unknown>;
  const text = (v: unknown): string | undefined => (typeof v === 'string' && v.trim() !== '' ? v.trim() : undefined);
  const stackId = text(d['stack-id']);
  const status = text(statusDetails.status);
  const clientRequestToken = text(d['client-request-token']);
  if (!stackId) return { ok: false, reason: 'the event has no detail.stack-id' };
  if (!status) return { ok: false, reason: 'the event has no detail.status-details.status' };
  if (!clientRequestToken) return { ok: false, reason: 'the event has no detail.client-request-token' };
  const change: StackStatusChange = { stackId, status, clientRequestToken };
  const reason = text(statusDetails['status-reason']);
  if (reason) change.statusReason = reason;
  const account = text(event.account);
  const region = text(event.region);
  const time = text(event.time);
  if (account) change.accountId = account;
  if (region) change.region = region;
  if (time) change.time = time;
  return { ok: true, change };
}

/** What the stack status means for the replacement. */
export function statusVerdict(status: string): 'complete' | 'failed' | 'in-progress' {
  if (status === 'UPDATE_COMPLETE') return 'complete';
  if (status.startsWith('UPDATE_ROLLBACK_') || status.endsWith('_FAILED') || status.startsWith('ROLLBACK_')) return 'failed';
  return 'in-progress';
}

export interface WatcherLogger {
  info(message: string, extra?: Record<string, unknown>): void;
  warn(message: string, extra?: Record<string, unknown>): void;
}

export interface WatcherDeps {
  ledger: Pick<ReplacementLedger, 'find' | 'markTerminationDue' | 'markTerminated' | 'markKept' | 'noteTerminationError'>;
  /** Clients for the stack's account and region (the member role in organization mode). */
  clientsFor(target: ClientTarget): AwsClients;
  /** For the image check of the new instance (approvedAmis). */
  policy: Policy;
  /** The alert topic; absent, alerts are logged only. */
  topicArn?: string;
  now(): Date;
  logger?: WatcherLogger;
}

export type WatchStatus = 'rejected' | 'ignored' | 'in-progress' | 'duplicate' | 'replaced' | 'termination-due' | 'kept';

export interface WatchResult {
  status: WatchStatus;
  reason: string;
  clientRequestToken?: string;
  oldInstanceId?: string;
  newInstanceId?: string;
  /** The termination outcome, when one was attempted. */
  termination?: StepOutcome;
  alert?: { kind: AlertKind; severity: Severity; published: boolean; detail?: string };
}

/** Handles one stack status change. Never throws for bad input; state-store failures propagate (the invocation is retried). */
export async function watchStackEvent(input: unknown, deps: WatcherDeps): Promise<WatchResult> {
  const parsed = parseStackStatusEvent(input);
  if (!parsed.ok) return { status: 'rejected', reason: parsed.reason };
  const change = parsed.change;
  const token = change.clientRequestToken;
  if (!token.startsWith(CLIENT_REQUEST_TOKEN_PREFIX)) {
    return { status: 'ignored', reason: `ClientRequestToken ${token} is not driftwarden's: ignored`, clientRequestToken: token };
  }
  const verdict = statusVerdict(change.status);
  if (verdict === 'in-progress') return { status: 'in-progress', reason: `stack status ${change.status} is not an end state`, clientRequestToken: token };

  const record = await deps.ledger.find(token);
  if (!record) {
    deps.logger?.warn('stack update with a driftwarden- token the ledger does not know: ignored', { clientRequestToken: token, stackId: change.stackId });
    return { status: 'ignored', reason: `no replacement recorded for ${token}: driftwarden did not start it, so it does not act`, clientRequestToken: token };
  }
  const base = { clientRequestToken: token, oldInstanceId: record.instanceId };
  if (record.status !== 'replacing') {
    return { ...base, status: 'duplicate', reason: `replacement ${token} is already ${record.status}: nothing to do`, ...(record.newInstanceId ? { newInstanceId: record.newInstanceId } : {}) };
  }
  const clients = deps.clientsFor({ accountId: record.accountId, region: record.region });

  if (verdict === 'failed') {
    const firstFailure = await firstFailedResource(clients, record.stackId ?? change.stackId, token);
    const details = [
      `Stack ${record.stackName} ended in ${change.status}: the replacement of ${record.instanceId} did not happen.`,
      `Stack reason: ${change.statusReason ?? '(none given)'}`,
      firstFailure,
      `${record.instanceId} stays quarantined and isolated; it is NOT terminated.`,
    ];
    return keep(record, `stack ${change.status}: ${change.statusReason ?? 'no reason given'}`, details, undefined, deps, base);
  }

  const found = await findReplacement(clients, record, change.stackId);
  if (found.status !== 'found') {
    const details = [
      `Stack ${record.stackName} is UPDATE_COMPLETE, but the replacement of ${record.instanceId} could not be verified: ${found.reason}.`,
      `${record.instanceId} stays quarantined; it is NOT terminated.`,
    ];
    return keep(record, found.reason, details, undefined, deps, base);
  }
  const newInstance = found.value;
  const newInstanceId = newInstance.InstanceId ?? '';
  const problems = await replacementProblems(newInstance, record, deps.policy, clients, deps.now());
  if (problems.length > 0) {
    const details = [
      `Replacement ${newInstanceId} of ${record.instanceId} is NOT trustworthy: ${problems.join('; ')}.`,
      `${record.instanceId} stays quarantined; it is NOT terminated. Check ${newInstanceId} and the stack's launch template.`,
    ];
    return keep(record, problems.join('; '), details, newInstanceId, deps, base);
  }

  const now = deps.now();
  const terminateAfter = new Date(now.getTime() + record.holdSeconds * 1000);
  const due = await deps.ledger.markTerminationDue(token, { newInstanceId, terminateAfter });
  if (!due.transitioned) {
    return { ...base, newInstanceId, status: 'duplicate', reason: `replacement ${token} was already handled (${due.record?.status ?? 'unknown'})` };
  }

  let termination: StepOutcome;
  let status: WatchStatus;
  if (record.holdSeconds === 0) {
    termination = await terminateInstance(record.instanceId, { clients }, { force: record.force });
    if (termination.status === 'done' || termination.status === 'already-done') {
      await deps.ledger.markTerminated(token);
      status = 'replaced';
    } else {
      // It stays due: the sweeper tries again, and a human reads why in the alert.
      await deps.ledger.noteTerminationError(token, termination.detail);
      status = 'termination-due';
    }
  } else {
    termination = {
      action: 'terminate',
      resource: record.instanceId,
      status: 'deferred',
      detail: `terminated after the forensic hold, from ${terminateAfter.toISOString()} (the hourly sweep terminates it)`,
      produced: { terminateAfter: terminateAfter.toISOString() },
    };
    status = 'termination-due';
  }
  const details = [
    `Replaced ${record.instanceId} with ${newInstanceId} (stack ${record.stackName}); the replacement passed the checks (approved image, no key, no isolation).`,
    record.holdSeconds === 0
      ? `${record.instanceId}: ${termination.detail}`
      : `${record.instanceId} is kept quarantined for the forensic hold and terminated after ${terminateAfter.toISOString()}.`,
  ];
  const alert = await sendAlert('replaced', record, details, [termination], newInstanceId, deps);
  return { ...base, newInstanceId, status, reason: details[0], termination, alert };
}

async function keep(
  record: ReplacementRecord,
  reason: string,
  details: (string | undefined)[],
  newInstanceId: string | undefined,
  deps: WatcherDeps,
  base: { clientRequestToken: string; oldInstanceId: string },
): Promise<WatchResult> {
  const kept = await deps.ledger.markKept(record.clientRequestToken, reason);
  if (!kept.transitioned) {
    return { ...base, status: 'duplicate', reason: `replacement ${record.clientRequestToken} was already handled (${kept.record?.status ?? 'unknown'})` };
  }
  const lines = details.filter((d): d is string => typeof d === 'string' && d !== '');
  const outcome: StepOutcome = { action: 'terminate', resource: record.instanceId, status: 'skipped', detail: `not terminated: ${reason}` };
  const alert = await sendAlert('replacement-failed', record, lines, [outcome], newInstanceId, deps);
  return { ...base, ...(newInstanceId ? { newInstanceId } : {}), status: 'kept', reason, alert };
}

/** The first resource that failed in this update, with its reason, from the stack's events. */
async function firstFailedResource(clients: AwsClients, stack: string, token: string): Promise<string | undefined> {
  try {
    const events: StackEvent[] = [];
    let nextToken: string | undefined;
    let pages = 0;
    do {
      const res = await clients.cloudFormation.send(new DescribeStackEventsCommand({ StackName: stack, NextToken: nextToken }));
      const page = res.StackEvents ?? [];
      events.push(...page.filter((e) => e.ClientRequestToken === token));
      nextToken = res.NextToken;
      pages += 1;
      // Newest first: once a page holds events older than this update, the update's start is read.
      if (page.length > 0 && page.every((e) => e.ClientRequestToken !== token) && events.length > 0) break;
    } while (nextToken && pages < 5);
    const failed = events
      .filter((e) => (e.ResourceStatus ?? '').endsWith('_FAILED') && e.LogicalResourceId !== undefined && e.ResourceType !== 'AWS::CloudFormation::Stack')
      .sort((a, b) => new Date(a.Timestamp ?? 0).getTime() - new Date(b.Timestamp ?? 0).getTime())[0];
    if (!failed) return 'No failed resource is recorded in the stack events of this update.';
    return `First failed resource: ${failed.LogicalResourceId} (${failed.ResourceType}) ${failed.ResourceStatus}: ${failed.ResourceStatusReason ?? 'no reason given'}`;
  } catch (err) {
    return `The stack events could not be read: ${describeAwsError(err)}`;
  }
}

/** The instance CloudFormation launched in place of the tainted one. */
async function findReplacement(
  clients: AwsClients,
  record: ReplacementRecord,
  stackId: string,
): Promise<{ status: 'found'; value: Instance } | { status: 'unknown'; reason: string }> {
  let logicalId = record.logicalId;
  try {
    if (!logicalId) {
      const old = await describeInstance(clients.ec2, record.instanceId);
      logicalId = tagsToRecord(old?.Tags)['aws:cloudformation:logical-id'];
    }
    if (!logicalId) return { status: 'unknown', reason: `the logical id of ${record.instanceId} in stack ${record.stackName} is not known` };
    const res = await clients.cloudFormation.send(new DescribeStackResourcesCommand({ StackName: record.stackId ?? stackId, LogicalResourceId: logicalId }));
    const physicalId = res.StackResources?.find((r) => r.LogicalResourceId === logicalId)?.PhysicalResourceId;
    if (!physicalId) return { status: 'unknown', reason: `stack ${record.stackName} has no physical resource for ${logicalId}` };
    if (physicalId === record.instanceId) {
      return { status: 'unknown', reason: `${logicalId} is still ${record.instanceId}: CloudFormation did not replace it (does the stack follow the replacement contract?)` };
    }
    const instance = await describeInstance(clients.ec2, physicalId);
    if (!instance) return { status: 'unknown', reason: `the new instance ${physicalId} was not found` };
    return { status: 'found', value: instance };
  } catch (err) {
    return { status: 'unknown', reason: `could not read the replacement: ${describeAwsError(err)}` };
  }
}

const ISOLATION_PREFIXES = [isolationGroupName(''), untrackGroupName('')];

/** Why the new instance cannot be trusted; empty when it passes every check. */
export async function replacementProblems(instance: Instance, record: ReplacementRecord, policy: Policy, clients: AwsClients, now: Date): Promise<string[]> {
  const problems: string[] = [];
  const id = instance.InstanceId ?? '(no id)';
  const tags = tagsToRecord(instance.Tags);
  const state = instance.State?.Name ?? 'unknown';
  if (state !== 'running') problems.push(`${id} is ${state}, not running`);
  if (tags[REPLACEMENT_TOKEN_TAG] !== record.replacementToken) {
    problems.push(`${id} carries ${REPLACEMENT_TOKEN_TAG}=${tags[REPLACEMENT_TOKEN_TAG] ?? '(none)'}, not this replacement's ${record.replacementToken}`);
  }
  if (instance.KeyName) problems.push(`${id} was launched with key pair "${instance.KeyName}"`);
  if (tags[policy.quarantineTag] !== undefined) problems.push(`${id} carries the quarantine tag ${policy.quarantineTag}`);
  const groups = [...(instance.SecurityGroups ?? []), ...(instance.NetworkInterfaces ?? []).flatMap((eni) => eni.Groups ?? [])];
  const isolating = [...new Set(groups.filter((g) => ISOLATION_PREFIXES.some((p) => (g.GroupName ?? '').startsWith(p))).map((g) => g.GroupId ?? g.GroupName))];
  if (isolating.length > 0) problems.push(`${id} is in isolation group(s) ${isolating.join(', ')}`);

  if (!instance.ImageId) {
    problems.push(`the image of ${id} is not recorded`);
  } else if (amiApprovalConfigured(policy)) {
    const reader = new AwsContextReader(clients);
    const context = emptyContext(now.toISOString());
    context.images[instance.ImageId] = await reader.image(instance.ImageId);
    if (policy.approvedAmis.ssmParameterPath) context.approvedAmiIds = await reader.approvedAmiIds(policy.approvedAmis.ssmParameterPath);
    const launchedAt = instance.LaunchTime ? new Date(instance.LaunchTime).toISOString() : now.toISOString();
    const verdict = judgeImage(instance.ImageId, policy, context, launchedAt);
    if (verdict.status === 'unapproved') problems.push(`${id} runs unapproved image ${instance.ImageId} (${verdict.why})`);
    if (verdict.status === 'undetermined') problems.push(`${verdict.why} (fail closed)`);
  }
  return problems;
}

function ruleOf(record: ReplacementRecord): RuleId {
  const candidate = record.rule ?? record.findingId.split(':')[0];
  return (RULE_IDS as readonly string[]).includes(candidate ?? '') ? (candidate as RuleId) : 'instance-manual-change';
}

/** The follow-up alert: same finding id as the first alert, both instances named. */
async function sendAlert(
  kind: 'replaced' | 'replacement-failed',
  record: ReplacementRecord,
  details: string[],
  outcomes: StepOutcome[],
  newInstanceId: string | undefined,
  deps: WatcherDeps,
): Promise<WatchResult['alert']> {
  const severity: Severity = kind === 'replaced' ? (record.severity ?? 'HIGH') : 'CRITICAL';
  const { event, plan } = followUp(record, kind, severity, newInstanceId, deps.now());
  if (!deps.topicArn) {
    deps.logger?.warn('no alert topic configured (DRIFTWARDEN_TOPIC_ARN): follow-up alert not published', { kind, details });
    return { kind, severity, published: false, detail: 'no alert topic configured' };
  }
  try {
    await publishAlert({ kind, event, plan, outcomes, details, actorTrusted: false }, { clients: deps.clientsFor({}), topicArn: deps.topicArn });
    return { kind, severity, published: true };
  } catch (err) {
    deps.logger?.warn('follow-up alert could not be published', { kind, error: describeAwsError(err) });
    return { kind, severity, published: false, detail: describeAwsError(err) };
  }
}

/** The event and plan a follow-up alert renders: the original finding, the stack and both instances. */
export function followUp(
  record: ReplacementRecord,
  kind: 'replaced' | 'replacement-failed',
  severity: Severity,
  newInstanceId: string | undefined,
  now: Date,
): { event: ChangeEvent; plan: Plan } {
  const resources: ResourceRef[] = [
    { type: 'instance', id: record.instanceId },
    ...(newInstanceId ? [{ type: 'instance' as const, id: newInstanceId }] : []),
    { type: 'stack', id: record.stackName },
  ];
  const finding: Finding = {
    id: record.findingId,
    rule: ruleOf(record),
    severity,
    summary:
      kind === 'replaced'
        ? `${record.instanceId} replaced by ${newInstanceId ?? 'a new instance'} in stack ${record.stackName}${record.summary ? ` (${record.summary})` : ''}`
        : `Replacement of ${record.instanceId} in stack ${record.stackName} FAILED${record.summary ? ` (${record.summary})` : ''}`,
    resources,
  };
  const event: ChangeEvent = {
    id: record.eventId,
    origin: 'cloudtrail',
    eventSource: 'cloudformation.amazonaws.com',
    eventName: 'UpdateStack',
    time: now.toISOString(),
    accountId: record.accountId,
    region: record.region,
    actor: { type: 'Unknown', name: record.actorName ?? 'unknown (see the first alert)' },
    readOnly: false,
    resources,
    change: { kind: 'other' },
    raw: { clientRequestToken: record.clientRequestToken },
  };
  const plan: Plan = {
    key: record.eventId,
    eventId: record.eventId,
    decision: 'replace',
    mode: 'replace',
    severity,
    findings: [finding],
    notConfigured: [],
    steps: [],
    dryRun: false,
    humanActions:
      kind === 'replaced'
        ? []
        : [`Decide on ${record.instanceId} (still quarantined) and fix stack ${record.stackName}; then release or terminate it by hand.`],
    warnings: [],
    resources,
  };
  return { event, plan };
}
