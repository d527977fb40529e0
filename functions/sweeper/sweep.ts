/**
 * The sweeper: reconciles what the live path missed. EventBridge delivers CloudTrail events
 * best-effort, and nothing is delivered while driftwarden is down or being deployed, so every
 * run (hourly):
 *
 * 1. terminates the quarantined instances whose forensic hold has passed after a confirmed
 *    replacement (replacement ledger → terminateInstance, honouring protection);
 * 2. sends the alert-storm summaries owed for windows that have ended (one `summary` alert
 *    per window, then markSummarised);
 * 3. pages through the security groups and instances of every covered account and region
 *    (accounts.ts: the home account with its own credentials, and in Organization mode the
 *    member accounts through the member role) and turns each violation of a state rule into
 *    a ChangeEvent with origin `sweep`, whose accountId is the account swept, so that the
 *    responder acts there (through the member role):
 *    - a security-group rule that opens an admin port to the world: a Config-like item of
 *      AWS::EC2::SecurityGroup carrying the group's current rules, with that one rule as the
 *      added rule, so the finding (and the revocation) is exactly that rule;
 *    - an instance launched from an unapproved image or with a key pair: a Config-like item of
 *      AWS::EC2::Instance, changeType CREATE, with imageId and keyName, so the launch-time
 *      rules apply;
 *    - a stack instance that CloudFormation reports as MODIFIED (DetectStackResourceDrift,
 *      drift.ts): an InstanceChange whose actor is Unknown ("unknown (found by drift
 *      detection)"). An unknown actor is never trusted, so instance-manual-change finds it,
 *      as the live ModifyInstanceAttribute event would have.
 *    Terminated and shutting-down instances, and instances already quarantined, are skipped.
 *    An expired exemption needs nothing special: every resource is judged again on every
 *    sweep, so a resource whose exemption has passed is acted on by the next one.
 *
 * Each candidate is first judged by the same pure pipeline, without acting (dry run), to
 * learn its violation keys (functions/core/violation-keys.ts); when the plan would act or
 * observe, the event is renamed `sweep:<key>` and handed to `respondToChangeEvent` with the
 * idempotency key `sweep:<key>`. So a violation is acted on once however often the sweep
 * finds it (idempotency), and once whether the live event or the sweep saw it first (the
 * violation claims). Exempt and held plans are not handed on: a sweep key spent while a
 * resource is exempt would hide the violation once the exemption expires, and a held plan is
 * tried again by the next sweep. When one resource breaks several rules, its key is the
 * sorted keys joined with `+`.
 *
 * Each run is bounded in time (the Lambda's remaining time minus a margin, or
 * DRIFTWARDEN_SWEEP_BUDGET_MS) and resumes where the last one stopped: the cursor (account,
 * region, kind, NextToken) is kept in the state table (cursor.ts); a cursor naming an account
 * or region no longer swept starts over. A member account that cannot be swept (its member
 * role missing or refused, say) is skipped with a warning and never stops the others; the
 * home account and the state table fail the run as before. A page cut short is read again in
 * full by the next run, which is harmless: everything it does is idempotent.
 */
import { paginateDescribeInstances, paginateDescribeSecurityGroups, type Instance, type SecurityGroup } from '@aws-sdk/client-ec2';
import { found, type ContextReader, type InstanceContext, type Lookup, type SecurityGroupContext } from '../core/context';
import type { Decision, Plan, StepOutcome } from '../core/decision';
import type { ChangeEvent, ConfigItemChange, InstanceChange, SgRule } from '../core/model';
import { rulesFromPermission } from '../core/normalize/permissions';
import { evaluateNormalized, isRejected } from '../core/pipeline';
import type { Policy } from '../core/policy/schema';
import { offendingAdminRules } from '../core/rules/admin-port-open-to-world';
import { violationKeys } from '../core/violation-keys';
import { describeAwsError } from '../aws/aws-errors';
import type { AwsClients, ClientTarget } from '../aws/clients';
import { stackFromTags, tagsToRecord, toInstanceContext } from '../aws/context-reader';
import { confirmInstanceDrift, describeDifferences } from '../aws/drift';
import type { AlertLimiter, PendingSummary } from '../aws/state/alert-limiter';
import type { ReplacementLedger } from '../aws/state/replacements';
import { untrackGroupName } from '../aws/steps/isolation-group';
import { publishAlert } from '../aws/steps/notify';
import { terminateInstance } from '../aws/steps/terminate';
import { StateUnavailableError } from '../aws/state/shared';
import type { SweepAccount, SweepAccountList } from './accounts';
import { SWEEP_KINDS, type SweepCursor, type SweepKind } from './cursor';

/** The sweeper's own reads (the steps, the context reader and the state modules declare theirs). */
export const IAM_ACTIONS = ['ec2:DescribeSecurityGroups', 'ec2:DescribeInstances'] as const;

export const DRIFT_ACTOR_NAME = 'unknown (found by drift detection)';
/** Time kept back from the budget for saving the cursor and returning. Default 20 s. */
export const DEFAULT_MARGIN_MS = 20_000;
export const DEFAULT_PAGE_SIZE = 100;

/** Decisions that are not handed on to the responder (see the module comment). */
const NOT_HANDED_ON: ReadonlySet<Decision> = new Set<Decision>(['no-finding', 'trusted', 'failed-call', 'off', 'exempt', 'quarantined', 'held']);
const GONE = new Set(['terminated', 'shutting-down']);

/** What respondToChangeEvent answers (functions/responder/respond.ts), as far as the sweeper reads it. */
export interface RespondSummary {
  status: string;
  decision?: string;
  reason?: string;
}

export interface SweepLogger {
  info(message: string, extra?: Record<string, unknown>): void;
  warn(message: string, extra?: Record<string, unknown>): void;
}

export interface SweepDeps {
  /** Regions to sweep (DRIFTWARDEN_REGIONS); the first one is driftwarden's own. */
  regions: string[];
  clientsFor(target: ClientTarget): AwsClients;
  readerFor(clients: AwsClients): ContextReader;
  policy(): Promise<Policy>;
  /** respondToChangeEvent, bound to the responder's deps. */
  respond(event: ChangeEvent, options: { idempotencyKey: string }): Promise<RespondSummary>;
  ledger: Pick<ReplacementLedger, 'dueTerminations' | 'markTerminated' | 'noteTerminationError'>;
  cursor: { read(): Promise<SweepCursor | undefined>; write(cursor: SweepCursor | undefined): Promise<void> };
  alerts: Pick<AlertLimiter, 'pendingSummaries' | 'markSummarised'>;
  topicArn?: string;
  now(): Date;
  /** Milliseconds left for this run (already net of any margin the caller keeps). */
  remainingMs(): number;
  /** Page size of the Describe* calls. Default 100. */
  pageSize?: number;
  /**
   * The accounts to sweep (accounts.ts sweepAccounts); its warnings go into the result.
   * Default: the home account only, with the clients' default account.
   */
  accounts?(): Promise<SweepAccountList>;
  logger?: SweepLogger;
}

export interface SweptViolation {
  key: string;
  idempotencyKey: string;
  /** The account of the event handed on (the account swept; the resource's owner when the home account's id is unknown). */
  accountId: string;
  region: string;
  resource: string;
  rules: string[];
  response: RespondSummary;
}

export interface SweepResult {
  /** True when every region and kind was read to the end (the cursor is cleared). */
  complete: boolean;
  /** Where the next run resumes, when not complete. */
  cursor?: SweepCursor;
  startedFrom?: SweepCursor;
  /** The accounts this run covers, the home account first, and where the list came from. */
  accounts: SweepAccount[];
  accountSource: SweepAccountList['source'];
  scanned: { securityGroups: number; instances: number; pages: number; driftChecks: number };
  violations: SweptViolation[];
  /** Candidates judged and not handed on, by decision. */
  notHandedOn: Record<string, number>;
  terminations: StepOutcome[];
  summaries: { accountId: string; windowStart: string; suppressed: number; sent: boolean }[];
  warnings: string[];
}

class OutOfTime extends Error {}

export async function runSweep(deps: SweepDeps): Promise<SweepResult> {
  const result: SweepResult = {
    complete: false,
    accounts: [],
    accountSource: 'home',
    scanned: { securityGroups: 0, instances: 0, pages: 0, driftChecks: 0 },
    violations: [],
    notHandedOn: {},
    terminations: [],
    summaries: [],
    warnings: [],
  };
  const regions = [...new Set(deps.regions.map((r) => r.trim()).filter((r) => r !== ''))];
  if (regions.length === 0) {
    result.warnings.push('no region to sweep (DRIFTWARDEN_REGIONS and AWS_REGION are empty)');
    return result;
  }
  const policy = await deps.policy();
  const timeLeft = (): boolean => deps.remainingMs() > 0;

  await terminateDue(deps, result, timeLeft);
  await sendSummaries(deps, result, regions[0], timeLeft);

  const listed: SweepAccountList = deps.accounts ? await deps.accounts() : { accounts: [{ home: true }], source: 'home', warnings: [] };
  result.warnings.push(...listed.warnings);
  const accounts = listed.accounts.length > 0 ? listed.accounts : [{ home: true }];
  result.accounts = accounts;
  result.accountSource = listed.source;
  const homeKey = accounts.find((a) => a.home)?.accountId ?? '';
  const accountKeys = accounts.map((a) => a.accountId ?? '');

  const saved = await deps.cursor.read();
  const savedAccount = saved ? (saved.accountId ?? homeKey) : '';
  let start: SweepCursor | undefined;
  if (saved && !accountKeys.includes(savedAccount)) result.warnings.push(`the saved cursor names account ${savedAccount}, which is no longer swept: starting over`);
  else if (saved && !regions.includes(saved.region)) result.warnings.push(`the saved cursor names region ${saved.region}, which is no longer swept: starting over`);
  else start = saved;
  if (start) result.startedFrom = start;
  const startAccount = start ? accountKeys.indexOf(savedAccount) : 0;

  let position: SweepCursor | undefined = start;
  try {
    for (let a = startAccount; a < accounts.length; a++) {
      const account = accounts[a];
      const accountId = account.accountId;
      const resuming = start !== undefined && a === startAccount;
      const at = (region: string, kind: SweepKind, nextToken?: string): SweepCursor => ({ ...(accountId ? { accountId } : {}), region, kind, ...(nextToken ? { nextToken } : {}) });
      for (let r = resuming ? regions.indexOf(start!.region) : 0; r < regions.length; r++) {
        const region = regions[r];
        const clients = deps.clientsFor({ ...(accountId ? { accountId } : {}), region });
        try {
          for (let k = resuming && region === start!.region ? SWEEP_KINDS.indexOf(start!.kind) : 0; k < SWEEP_KINDS.length; k++) {
            const kind = SWEEP_KINDS[k];
            const token = resuming && region === start!.region && kind === start!.kind ? start!.nextToken : undefined;
            position = at(region, kind, token);
            const onPage = (next: string | undefined): void => {
              position = at(region, kind, next);
            };
            const where: SweptPlace = { accountId, region, clients };
            if (kind === 'security-groups') await sweepSecurityGroups(deps, policy, where, token, onPage, timeLeft, result);
            else await sweepInstances(deps, policy, where, token, onPage, timeLeft, result);
          }
        } catch (err) {
          // A member account that cannot be read (no member role there, the role refused, the
          // region not enabled) must not keep every other account from being swept. The home
          // account and the state table are driftwarden's own: their failure fails the run.
          if (err instanceof OutOfTime || account.home || err instanceof StateUnavailableError) throw err;
          // Into the result: the handler logs every warning of the run.
          result.warnings.push(`account ${accountId ?? '(home)'} in ${region} not swept (or not to the end): ${describeAwsError(err)}`);
        }
      }
    }
  } catch (err) {
    if (!(err instanceof OutOfTime)) throw err;
    result.cursor = position;
    await deps.cursor.write(position);
    deps.logger?.info('sweep out of time: the next run resumes here', { cursor: position });
    return result;
  }
  result.complete = true;
  await deps.cursor.write(undefined);
  return result;
}

type OnPage = (nextToken: string | undefined) => void;

/** The account (absent: the home account, id unknown) and region being swept, and their clients. */
interface SweptPlace {
  accountId?: string;
  region: string;
  clients: AwsClients;
}

async function sweepSecurityGroups(
  deps: SweepDeps,
  policy: Policy,
  { accountId, region, clients }: SweptPlace,
  startingToken: string | undefined,
  onPage: OnPage,
  timeLeft: () => boolean,
  result: SweepResult,
): Promise<void> {
  const paginator = paginateDescribeSecurityGroups(
    { client: clients.ec2, pageSize: deps.pageSize ?? DEFAULT_PAGE_SIZE, ...(startingToken ? { startingToken } : {}) },
    {},
  );
  if (!timeLeft()) throw new OutOfTime();
  for await (const page of paginator) {
    result.scanned.pages += 1;
    const groups = page.SecurityGroups ?? [];
    const reader = prefetched(deps.readerFor(clients), { groups });
    for (const group of groups) {
      if (!timeLeft()) throw new OutOfTime(); // this page is read again next time
      result.scanned.securityGroups += 1;
      if (isUntrackGroup(group)) continue;
      const rules = groupRules(group);
      for (const rule of offendingAdminRules(rules, policy.adminPorts)) {
        await consider(deps, policy, reader, securityGroupEvent(group, rules, rule, region, deps.now(), accountId), region, group.GroupId ?? '', result);
      }
    }
    onPage(page.NextToken);
    if (page.NextToken && !timeLeft()) throw new OutOfTime();
  }
}

async function sweepInstances(
  deps: SweepDeps,
  policy: Policy,
  { accountId, region, clients }: SweptPlace,
  startingToken: string | undefined,
  onPage: OnPage,
  timeLeft: () => boolean,
  result: SweepResult,
): Promise<void> {
  const paginator = paginateDescribeInstances(
    { client: clients.ec2, pageSize: deps.pageSize ?? DEFAULT_PAGE_SIZE, ...(startingToken ? { startingToken } : {}) },
    {},
  );
  if (!timeLeft()) throw new OutOfTime();
  const driftOn = policy.rules['instance-manual-change'].mode !== 'off';
  for await (const page of paginator) {
    result.scanned.pages += 1;
    const instances = (page.Reservations ?? []).flatMap((r) => (r.Instances ?? []).map((i) => ({ instance: i, ownerId: r.OwnerId })));
    const reader = prefetched(deps.readerFor(clients), { instances: instances.map((i) => i.instance) });
    for (const { instance, ownerId } of instances) {
      if (!timeLeft()) throw new OutOfTime();
      result.scanned.instances += 1;
      const id = instance.InstanceId;
      const tags = tagsToRecord(instance.Tags);
      if (!id || GONE.has(instance.State?.Name ?? '') || tags[policy.quarantineTag] !== undefined) continue;
      const eventAccount = accountId ?? ownerId ?? '';
      await consider(deps, policy, reader, launchEvent(instance, tags, eventAccount, region, deps.now()), region, id, result);

      const stack = stackFromTags(tags);
      if (driftOn && stack?.logicalId && !tags['aws:autoscaling:groupName'] && instance.State?.Name === 'running') {
        result.scanned.driftChecks += 1;
        const drift = await confirmInstanceDrift(clients, stack.stackId ?? stack.stackName, stack.logicalId);
        if (drift.status === 'MODIFIED') {
          await consider(deps, policy, reader, driftEvent(id, stack.stackName, describeDifferences(drift.differences), eventAccount, region, deps.now()), region, id, result);
        } else if (drift.status === 'UNKNOWN') {
          result.warnings.push(`drift of ${id}${accountId ? ` in ${accountId}` : ''} (${stack.stackName}/${stack.logicalId}) not known: ${drift.reason ?? 'no reason'}`);
        }
      }
    }
    onPage(page.NextToken);
    if (page.NextToken && !timeLeft()) throw new OutOfTime();
  }
}

/** Judge one candidate (dry run) and hand it to the responder when the plan would act or observe. */
async function consider(
  deps: SweepDeps,
  policy: Policy,
  reader: ContextReader,
  candidate: ChangeEvent,
  region: string,
  resource: string,
  result: SweepResult,
): Promise<void> {
  const evaluation = await evaluateNormalized({ rejected: false, event: candidate }, { policy, reader, now: deps.now().toISOString(), dryRun: true });
  if (isRejected(evaluation)) return;
  const plan: Plan = evaluation.plan;
  if (plan.findings.length === 0 || NOT_HANDED_ON.has(plan.decision)) {
    result.notHandedOn[plan.decision] = (result.notHandedOn[plan.decision] ?? 0) + 1;
    if (plan.decision === 'held') result.warnings.push(`held, not handed on (tried again next sweep): ${resource}: ${plan.warnings.join(' ')}`);
    return;
  }
  const key = violationKeys(plan).join('+');
  const idempotencyKey = `sweep:${key}`;
  const event: ChangeEvent = { ...candidate, id: idempotencyKey };
  const response = await deps.respond(event, { idempotencyKey });
  result.violations.push({ key, idempotencyKey, accountId: event.accountId, region, resource, rules: [...new Set(plan.findings.map((f) => f.rule))], response });
}

/** A reader that answers from the page just read (no second Describe per resource) and asks the real one for the rest. */
function prefetched(base: ContextReader, page: { groups?: SecurityGroup[]; instances?: Instance[] }): ContextReader {
  const groups = new Map<string, SecurityGroupContext>();
  for (const g of page.groups ?? []) {
    if (!g.GroupId) continue;
    const tags = tagsToRecord(g.Tags);
    const stack = stackFromTags(tags);
    groups.set(g.GroupId, { groupId: g.GroupId, tags, ...(g.GroupName ? { groupName: g.GroupName } : {}), ...(g.VpcId ? { vpcId: g.VpcId } : {}), ...(stack ? { stack } : {}) });
  }
  const instances = new Map<string, InstanceContext>();
  for (const i of page.instances ?? []) if (i.InstanceId) instances.set(i.InstanceId, toInstanceContext(i));
  return {
    instance: (id): Promise<Lookup<InstanceContext>> => (instances.has(id) ? Promise.resolve(found(instances.get(id)!)) : base.instance(id)),
    securityGroup: (id): Promise<Lookup<SecurityGroupContext>> => (groups.has(id) ? Promise.resolve(found(groups.get(id)!)) : base.securityGroup(id)),
    image: (id) => base.image(id),
    approvedAmiIds: (path) => base.approvedAmiIds(path),
    tagWriter: (id, key) => base.tagWriter(id, key),
  };
}

/**
 * driftwarden's own allow-all group of a VPC (`driftwarden-untrack-<vpcId>`, isolation-group.ts):
 * it opens every port to the world ON PURPOSE, for the moment isolation needs to turn tracked
 * connections into untracked ones. Judged as a workload group, every sweep would revoke its
 * rules (and alert), and the next isolation would put them back. Group names are unique in a
 * VPC, so this is the one group the isolation step itself would use there; the name must match
 * the group's own VPC.
 */
export function isUntrackGroup(group: SecurityGroup): boolean {
  return group.VpcId !== undefined && group.GroupName === untrackGroupName(group.VpcId);
}

function groupRules(group: SecurityGroup): SgRule[] {
  return [
    ...(group.IpPermissions ?? []).flatMap((p) => rulesFromPermission(p, 'ingress')),
    ...(group.IpPermissionsEgress ?? []).flatMap((p) => rulesFromPermission(p, 'egress')),
  ];
}

function sweepEvent(id: string, accountId: string, region: string, now: Date, change: ChangeEvent['change'], resources: ChangeEvent['resources'], actorName: string): ChangeEvent {
  return {
    id,
    origin: 'sweep',
    eventSource: 'driftwarden.sweeper',
    eventName: 'Sweep',
    time: now.toISOString(),
    accountId,
    region,
    actor: { type: 'Unknown', name: actorName },
    readOnly: false,
    resources,
    change,
    raw: { sweep: { found: resources.map((r) => r.id), at: now.toISOString() } },
  };
}

/**
 * The group as it is now, with the one offending rule as "added", so that the finding names
 * exactly it. accountId: the account swept (default: the group's owner).
 */
export function securityGroupEvent(group: SecurityGroup, rules: SgRule[], offending: SgRule, region: string, now: Date, accountId?: string): ChangeEvent {
  const groupId = group.GroupId ?? '';
  const tags = tagsToRecord(group.Tags);
  const change: ConfigItemChange = {
    kind: 'config-item',
    resourceType: 'AWS::EC2::SecurityGroup',
    resourceId: groupId,
    changeType: 'UPDATE',
    status: 'OK',
    oversized: false,
    rules,
    addedRules: [offending],
    ...(Object.keys(tags).length > 0 ? { tags } : {}),
  };
  return sweepEvent(`sweep:candidate:${groupId}`, accountId ?? group.OwnerId ?? '', region, now, change, [{ type: 'security-group', id: groupId }], 'unknown (found by the sweep)');
}

/** The instance as launched: changeType CREATE so that the launch-time rules (image, key) apply. */
export function launchEvent(instance: Instance, tags: Record<string, string>, accountId: string, region: string, now: Date): ChangeEvent {
  const id = instance.InstanceId ?? '';
  const change: ConfigItemChange = {
    kind: 'config-item',
    resourceType: 'AWS::EC2::Instance',
    resourceId: id,
    changeType: 'CREATE',
    status: 'OK',
    oversized: false,
    ...(instance.ImageId ? { imageId: instance.ImageId } : {}),
    ...(instance.KeyName ? { keyName: instance.KeyName } : {}),
    ...(Object.keys(tags).length > 0 ? { tags } : {}),
  };
  const resources: ChangeEvent['resources'] = [{ type: 'instance', id }, ...(instance.ImageId ? [{ type: 'image' as const, id: instance.ImageId }] : [])];
  return sweepEvent(`sweep:candidate:${id}`, accountId, region, now, change, resources, 'unknown (found by the sweep)');
}

/** A manual change CloudFormation's drift detection found: the actor is unknown, so it is not trusted. */
export function driftEvent(instanceId: string, stackName: string, differences: string[], accountId: string, region: string, now: Date): ChangeEvent {
  const change: InstanceChange = {
    kind: 'instance-change',
    instanceIds: [instanceId],
    attribute: differences.length > 0 ? `drift from stack ${stackName}: ${differences.join('; ')}` : `drift from stack ${stackName}`,
  };
  const event = sweepEvent(`sweep:candidate:drift:${instanceId}`, accountId, region, now, change, [{ type: 'instance', id: instanceId }, { type: 'stack', id: stackName }], DRIFT_ACTOR_NAME);
  return { ...event, eventSource: 'cloudformation.amazonaws.com', eventName: 'DetectStackResourceDrift' };
}

/** Quarantines past their hold, after a confirmed replacement. */
async function terminateDue(deps: SweepDeps, result: SweepResult, timeLeft: () => boolean): Promise<void> {
  let due;
  try {
    due = await deps.ledger.dueTerminations(deps.now());
  } catch (err) {
    result.warnings.push(`due terminations not read: ${describeAwsError(err)}`);
    return;
  }
  for (const record of due) {
    if (!timeLeft()) return;
    const clients = deps.clientsFor({ accountId: record.accountId, region: record.region });
    const outcome = await terminateInstance(record.instanceId, { clients }, { force: record.force });
    result.terminations.push(outcome);
    if (outcome.status === 'done' || outcome.status === 'already-done') await deps.ledger.markTerminated(record.clientRequestToken);
    else await deps.ledger.noteTerminationError(record.clientRequestToken, outcome.detail);
  }
}

/** One `summary` alert per window that ended with folded alerts. */
async function sendSummaries(deps: SweepDeps, result: SweepResult, homeRegion: string, timeLeft: () => boolean): Promise<void> {
  let pending: PendingSummary[];
  try {
    pending = await deps.alerts.pendingSummaries(deps.now());
  } catch (err) {
    result.warnings.push(`alert summaries not read: ${describeAwsError(err)}`);
    return;
  }
  if (pending.length > 0 && !deps.topicArn) {
    result.warnings.push(`${pending.length} alert summaries owed, but no alert topic is configured (DRIFTWARDEN_TOPIC_ARN)`);
    return;
  }
  for (const summary of pending) {
    if (!timeLeft()) return;
    const { event, plan } = summaryAlert(summary, homeRegion, deps.now());
    const details = [
      `${summary.suppressed} alert(s) were folded between ${summary.windowStart} and ${summary.windowEnd} (${summary.sent} sent individually):`,
      ...summary.summaries,
      ...(summary.truncated ? [`… and ${summary.suppressed - summary.summaries.length} more (see the audit trail).`] : []),
    ];
    try {
      await publishAlert({ kind: 'summary', event, plan, outcomes: [], details }, { clients: deps.clientsFor({}), topicArn: deps.topicArn! });
      await deps.alerts.markSummarised(summary);
      result.summaries.push({ accountId: summary.accountId, windowStart: summary.windowStart, suppressed: summary.suppressed, sent: true });
    } catch (err) {
      result.summaries.push({ accountId: summary.accountId, windowStart: summary.windowStart, suppressed: summary.suppressed, sent: false });
      result.warnings.push(`summary of ${summary.accountId} ${summary.windowStart} not sent: ${describeAwsError(err)}`);
    }
  }
}

export function summaryAlert(summary: PendingSummary, region: string, now: Date): { event: ChangeEvent; plan: Plan } {
  const id = `summary:${summary.accountId}:${summary.windowStart}`;
  const event = sweepEvent(id, summary.accountId, region, now, { kind: 'other' }, [], 'driftwarden (alert summary)');
  const plan: Plan = {
    key: id,
    eventId: id,
    decision: 'observe',
    severity: 'MEDIUM',
    findings: [],
    notConfigured: [],
    steps: [],
    dryRun: false,
    humanActions: ['Review the folded alerts: a storm of findings usually has one cause (a script, a bad deployment).'],
    warnings: [],
    resources: [],
  };
  return { event: { ...event, eventName: 'AlertSummary' }, plan };
}
