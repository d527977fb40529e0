/**
 * The plan: what driftwarden does about one event. Pure: the event, its classification, the
 * context and the policy in; one `Plan` out, with ordered steps, each with a human reason.
 *
 * Decisions (the README copies this table):
 *
 * | decision      | when                                                                               | steps |
 * |---------------|------------------------------------------------------------------------------------|-------|
 * | `no-finding`  | no rule matched                                                                    | none |
 * | `trusted`     | a write that actor-sensitive rules read, by a trusted actor (or driftwarden itself) | none |
 * | `failed-call` | the call failed (errorCode) and changed nothing                                    | notify (LOW) when attempts are reported |
 * | `off`         | every matching rule is off                                                         | none |
 * | `quarantined` | the change is to a resource driftwarden already quarantined (no loops)             | none |
 * | `exempt`      | every targeted resource carries a valid exemption                                  | notify |
 * | `held`        | driftwarden would act but could not read what it needs: fails closed               | notify |
 * | `observe`     | alert only (mode observe, forced observe, or nothing that can be contained)        | notify |
 * | `contain`     | revoke the offending rules / isolate, snapshot, tag, detach from target groups; undo tampering | revoke-rule, revert-tags, restore-logging, isolate-instance, snapshot-volumes, tag, detach, notify |
 * | `replace`     | contain, then replace through the stack or the Auto Scaling group, then terminate  | … detach, notify, replace, terminate |
 *
 * How the plan is built:
 * - One plan per event: its findings merge. Steps are de-duplicated (one isolate per
 *   instance; the rules to revoke merge per group) and always follow `STEP_ORDER`.
 * - The mode of each finding is its rule's mode in the policy; `overrides.forceObserve` (the
 *   kill switch or the blast-radius limit, decided by the shell) turns every mode to observe.
 *   The decision is the strongest mode that can actually be carried out: observe < contain < replace.
 * - Security-group findings revoke exactly their offending rules, never the whole group, and
 *   never isolate anything. A security group cannot be replaced: replace means contain there.
 * - Instance findings isolate the instance (every interface, with its current groups),
 *   snapshot every attached volume, tag it quarantined, and detach it from its target groups.
 *   In replace mode an Auto Scaling member is also detached from its group without lowering
 *   desired capacity (the group launches a fresh one), never replaced by a stack update (that
 *   would roll the whole fleet); a standalone stack instance is replaced by a stack update with
 *   a ClientRequestToken derived from the finding id. Either way the old instance is
 *   terminated after the replacement is in service and the forensic hold has passed (at once
 *   when the hold is 0). An instance in neither cannot be replaced: it stays contained and a
 *   human is asked to act.
 * - Launch-time findings (unapproved AMI, key at launch) are contained, never replaced: a
 *   replacement would launch the same thing again. The plan names their source to fix.
 * - Fail closed: when the context an action needs is unknown (the instance, the group's tags,
 *   who set an exemption), nothing mutating is planned; the decision is `held` and the alert
 *   says what could not be read. An instance that is gone or terminated needs nothing.
 * - A rule that could not judge (`undetermined`, say the approved-AMI path was unreadable)
 *   holds the plan when nothing else was found (notified at MEDIUM, since no finding gives a
 *   severity); next to other findings it is a warning, and the other findings are acted on.
 * - A quarantine mark whose value is one of this event's own finding ids is this event's own
 *   containment seen again (redelivery, replay): it does not stop the plan.
 * - `driftwarden-tamper` findings are always reported: neither quarantine nor exemptions
 *   silence them (a DeleteTags of the quarantine tag is itself a change to a quarantined resource).
 *   In contain or replace mode what can be undone safely is undone (tamper-response.ts):
 *   driftwarden's tags are reverted (`revert-tags`), a stopped trail or Config recorder is
 *   started again (`restore-logging`); nothing is isolated or replaced for them, and what
 *   cannot be undone automatically (a deleted trail, a changed function) is a human action.
 */
import { createHash } from 'node:crypto';
import type { InstanceContext, Lookup, ResourceContext, SecurityGroupContext } from './context';
import {
  STEP_ORDER,
  type Decision,
  type DetachStep,
  type IsolateInstanceStep,
  type NotifyStep,
  type Plan,
  type ReplaceStep,
  type RevokeRuleStep,
  type SnapshotVolumesStep,
  type Step,
  type TagStep,
  type TerminateStep,
} from './decision';
import { PolicyError } from './errors';
import { evaluateExemption, type ExemptionVerdict } from './exemptions';
import { SEVERITY_ORDER, type ChangeEvent, type Finding, type NotConfigured, type ResourceRef, type RuleId, type Severity, type SgRule } from './model';
import type { Mode, Policy } from './policy/schema';
import { planTamperResponse, type TamperResponse } from './tamper-response';
import type { TrustVerdict } from './trust';

/** Every decision value, in the order of the table above. */
export const DECISIONS: readonly Decision[] = [
  'no-finding',
  'trusted',
  'failed-call',
  'off',
  'quarantined',
  'exempt',
  'held',
  'observe',
  'contain',
  'replace',
];

/** The tag that says in a few words why an instance was quarantined. */
export const REASON_TAG = 'driftwarden:reason';
/** Tags driftwarden writes on an instance (the isolate step carries them, so it need not read them again). */
const DRIFTWARDEN_TAG_PREFIX = 'driftwarden:';

/**
 * What `planResponse` reads of a classification (the shape `classify` returns); declared here
 * structurally so that the plan depends on the data, not on the classifier's module.
 */
export interface ClassificationInput {
  trust: TrustVerdict;
  findings: Finding[];
  notConfigured: NotConfigured[];
  undetermined: { rule: RuleId; reason: string; resources: ResourceRef[] }[];
  attempted: boolean;
}

export interface PlanOverrides {
  /** Why every mode is forced to observe (kill switch engaged, blast-radius limit reached). */
  forceObserve?: string;
}

export interface PlanInput {
  event: ChangeEvent;
  classification: ClassificationInput;
  context: ResourceContext;
  policy: Policy;
  /** Replay without --execute: no mutating step may run. `policy.dryRun` also sets it. */
  dryRun?: boolean;
  overrides?: PlanOverrides;
}

const MODE_STRENGTH: Record<Mode, number> = { off: 0, observe: 1, contain: 2, replace: 3 };
const TAG_VALUE_MAX = 256;
const TOKEN_MAX = 128;
/** Change kinds that actor-sensitive rules read: a trusted write of these is `trusted`. */
const ACTOR_SENSITIVE_KINDS = new Set(['security-group', 'instance-change', 'shell-access', 'key-pair', 'control']);
const GONE_STATES = new Set(['terminated', 'shutting-down']);

const ISO_DURATION = /^P(?!$)(?:(\d+)D)?(?:T(?=\d)(?:(\d+)H)?(?:(\d+)M)?(?:(\d+)S)?)?$/;

/** A forensic-hold duration (hours as a number, or ISO-8601 such as PT24H or P2D) in seconds. */
export function durationSeconds(duration: number | string): number {
  if (typeof duration === 'number') {
    if (!Number.isFinite(duration) || duration < 0) {
      throw new PolicyError(`forensicHold.duration must be a non-negative number of hours (got ${duration})`, [
        { path: 'forensicHold.duration', message: 'must be a non-negative number of hours' },
      ]);
    }
    return Math.round(duration * 3600);
  }
  const m = ISO_DURATION.exec(duration);
  if (!m) {
    throw new PolicyError(`forensicHold.duration must be an ISO-8601 duration such as PT24H or P2D (got "${duration}")`, [
      { path: 'forensicHold.duration', message: 'must be an ISO-8601 duration such as PT24H or P2D' },
    ]);
  }
  const [, d = '0', h = '0', min = '0', s = '0'] = m;
  return Number(d) * 86_400 + Number(h) * 3600 + Number(min) * 60 + Number(s);
}

/**
 * The ClientRequestToken of the stack update that replaces an instance: derived from the
 * finding id so that a retry sends the same token (CloudFormation ignores the duplicate) and
 * the watcher recognises its own update. CloudFormation accepts `[a-zA-Z][-a-zA-Z0-9]*`, at
 * most 128 characters; a longer id is shortened and made unique again with a hash.
 */
export function replacementToken(findingId: string): string {
  const token = `driftwarden-${findingId.replace(/[^a-zA-Z0-9-]/g, '-')}`;
  if (token.length <= TOKEN_MAX) return token;
  const hash = createHash('sha256').update(findingId).digest('hex').slice(0, 16);
  return `${token.slice(0, TOKEN_MAX - hash.length - 1)}-${hash}`;
}

const maxSeverity = (findings: Finding[]): Severity | undefined =>
  findings.reduce<Severity | undefined>((max, f) => (max === undefined || SEVERITY_ORDER[f.severity] > SEVERITY_ORDER[max] ? f.severity : max), undefined);

const truncate = (text: string, max: number): string => (text.length <= max ? text : `${text.slice(0, max - 1)}…`);

function unionResources(lists: ResourceRef[][]): ResourceRef[] {
  const seen = new Map<string, ResourceRef>();
  for (const list of lists) for (const ref of list) if (!seen.has(`${ref.type}:${ref.id}`)) seen.set(`${ref.type}:${ref.id}`, ref);
  return [...seen.values()];
}

/** Rules are the same when AWS names them the same (`sgr-…`), or when every field matches. */
function ruleKey(rule: SgRule): string {
  if (rule.ruleId) return `id:${rule.ruleId}`;
  return JSON.stringify([rule.direction, rule.protocol, rule.fromPort, rule.toPort, rule.cidrIpv4, rule.cidrIpv6, rule.prefixListId, rule.referencedGroupId]);
}

function describeRule(rule: SgRule): string {
  const proto = rule.protocol === '-1' ? 'all traffic' : rule.fromPort === undefined ? rule.protocol : rule.fromPort === rule.toPort || rule.toPort === undefined ? `${rule.fromPort}/${rule.protocol}` : `${rule.fromPort}-${rule.toPort}/${rule.protocol}`;
  const source = rule.cidrIpv4 ?? rule.cidrIpv6 ?? rule.prefixListId ?? rule.referencedGroupId ?? '?';
  return `${rule.direction} ${proto} ${rule.direction === 'egress' ? 'to' : 'from'} ${source}${rule.ruleId ? ` (${rule.ruleId})` : ''}`;
}

/**
 * The instances and security groups a finding is about, whose tags (quarantine, exemption)
 * decide whether driftwarden may act: the instances it names, the groups whose rules it
 * would revoke, and, for a finding that names neither, the groups it names. Groups an
 * instance finding merely mentions (the new groups of a ModifyInstanceAttribute) are not.
 */
function targetsOf(finding: Finding): { instances: string[]; groups: string[] } {
  const instances = finding.resources.filter((r) => r.type === 'instance').map((r) => r.id);
  const revoked = (finding.offendingRules ?? []).filter((o) => o.rules.length > 0).map((o) => o.groupId);
  const named = instances.length === 0 ? finding.resources.filter((r) => r.type === 'security-group').map((r) => r.id) : [];
  return { instances: [...new Set(instances)], groups: [...new Set([...revoked, ...named])] };
}

type TagRead = { status: 'known'; tags: Record<string, string> } | { status: 'gone' } | { status: 'unknown'; reason: string };

function readTags(lookup: Lookup<InstanceContext | SecurityGroupContext> | undefined, eventTags: Record<string, string> | undefined, what: string): TagRead {
  if (lookup?.status === 'found') return { status: 'known', tags: lookup.value.tags };
  if (eventTags) return { status: 'known', tags: eventTags };
  if (lookup?.status === 'not-found') return { status: 'gone' };
  return { status: 'unknown', reason: lookup?.status === 'unknown' ? lookup.reason : `${what} was not looked up` };
}

interface InstanceWork {
  instanceId: string;
  context: InstanceContext;
  findingId: string;
  rules: RuleId[];
  summaries: string[];
  /** Asked to be replaced (replace mode, not a launch-time finding). */
  replace: boolean;
  /** A launch-time finding names it: it must not be replaced. */
  launchTime: boolean;
}

/** The plan of an event no rule found anything in: `trusted` or `no-finding`, no steps. */
function nothingToDo(event: ChangeEvent, classification: ClassificationInput, dryRun: boolean, forced: string | undefined): Plan {
  const trusted = classification.trust.trusted && (classification.trust.self || ACTOR_SENSITIVE_KINDS.has(event.change.kind));
  const warnings = forced ? [...classification.trust.warnings, forced] : classification.trust.warnings;
  return {
    key: event.id,
    eventId: event.id,
    decision: trusted ? 'trusted' : 'no-finding',
    findings: classification.findings,
    notConfigured: classification.notConfigured,
    steps: [],
    dryRun,
    humanActions: [],
    warnings: warnings.length === 0 ? [] : [...new Set(warnings)],
    resources: event.resources,
  };
}

interface GroupWork {
  groupId: string;
  findingId: string;
  rules: Map<string, SgRule>;
  summaries: string[];
}

export function planResponse(input: PlanInput): Plan {
  const { event, classification, context, policy } = input;
  const dryRun = policy.dryRun || input.dryRun === true;
  // Most events find nothing (a replay of a CloudTrail archive is 98% read-only noise): the same
  // plan the full path below builds for them, without its set-up.
  if (classification.findings.length === 0 && classification.undetermined.length === 0 && !event.failure) {
    return nothingToDo(event, classification, dryRun, input.overrides?.forceObserve);
  }
  const warnings: string[] = [...classification.trust.warnings];
  const humanActions: string[] = [];
  const findings = classification.findings;
  const forced = input.overrides?.forceObserve;
  const holdSeconds = durationSeconds(policy.forensicHold.duration);

  const resources = unionResources([...findings.map((f) => f.resources), ...classification.undetermined.map((u) => u.resources)]);
  const plan = (decision: Decision, steps: Step[], extra: { mode?: Mode; severity?: Severity } = {}): Plan => ({
    key: event.id,
    eventId: event.id,
    decision,
    ...(extra.mode ? { mode: extra.mode } : {}),
    ...((extra.severity ?? maxSeverity(findings)) ? { severity: extra.severity ?? maxSeverity(findings) } : {}),
    findings,
    notConfigured: classification.notConfigured,
    steps: [...steps].sort((a, b) => STEP_ORDER.indexOf(a.action) - STEP_ORDER.indexOf(b.action)),
    dryRun,
    humanActions: [...new Set(humanActions)],
    warnings: [...new Set(warnings)],
    resources: resources.length > 0 ? resources : event.resources,
  });
  const primaryResource = (): string => resources[0]?.id ?? event.resources[0]?.id ?? event.id;
  const notify = (severity: Severity, reason: string, findingId = findings[0]?.id ?? event.id): NotifyStep => ({
    action: 'notify',
    resource: primaryResource(),
    reason,
    findingId,
    severity,
  });
  const ruleList = (list: Finding[]): string => [...new Set(list.map((f) => f.rule))].join(', ');

  // A failed call changed nothing: at most it is reported as an attempt.
  if (event.failure) {
    const report = findings.length > 0 && policy.attemptedViolations.report;
    const steps = report ? [notify('LOW', `Attempted ${ruleList(findings)}: the call failed (${event.failure.errorCode}) and changed nothing.`)] : [];
    return plan('failed-call', steps, report ? { severity: 'LOW' } : {});
  }

  if (forced) warnings.push(forced);
  const modeOf = (rule: RuleId): Mode => {
    const mode = policy.rules[rule].mode;
    return forced && mode !== 'off' ? 'observe' : mode;
  };

  const undetermined = classification.undetermined.filter((u) => modeOf(u.rule) !== 'off');
  for (const u of undetermined) warnings.push(`${u.rule} could not judge this change: ${u.reason}`);

  if (findings.length === 0) {
    if (undetermined.length > 0) {
      const reasons = undetermined.map((u) => `${u.rule}: ${u.reason}`).join('; ');
      return plan('held', [notify('MEDIUM', `Held: driftwarden could not read what it needs to judge this change (${reasons}); it did not act.`, event.id)], { severity: 'MEDIUM' });
    }
    const trusted = classification.trust.trusted && (classification.trust.self || ACTOR_SENSITIVE_KINDS.has(event.change.kind));
    return plan(trusted ? 'trusted' : 'no-finding', []);
  }

  const active = findings.filter((f) => modeOf(f.rule) !== 'off');
  if (active.length === 0) return plan('off', [], { mode: 'off' });
  if (active.length < findings.length) warnings.push(`Not acted on (rule off): ${ruleList(findings.filter((f) => modeOf(f.rule) === 'off'))}.`);

  // Tags of every targeted resource: the quarantine mark and exemptions live there.
  const eventTags = event.change.kind === 'config-item' ? { id: event.change.resourceId, tags: event.change.tags } : undefined;
  const tagsOf = (id: string, kind: 'instance' | 'group'): TagRead => {
    const lookup = kind === 'instance' ? context.instances[id] : context.securityGroups[id];
    const fromEvent = eventTags?.id === id ? eventTags.tags : undefined;
    return readTags(lookup, fromEvent, kind === 'instance' ? `instance ${id}` : `security group ${id}`);
  };

  // A quarantine mark left by one of this event's own findings is this event's containment,
  // seen again on redelivery or replay: planning it again is safe (every step is idempotent).
  const quarantinedBefore = (tags: Record<string, string>): boolean => {
    const mark = tags[policy.quarantineTag];
    return mark !== undefined && !findings.some((f) => f.id === mark);
  };
  const quarantined: Finding[] = [];
  const exempt: Finding[] = [];
  const held: string[] = [];
  const actionable: { finding: Finding; mode: Mode }[] = [];
  const exemptionCache = new Map<string, ExemptionVerdict>();
  const tamperResponses = new Map<string, TamperResponse>();

  for (const finding of active) {
    const mode = modeOf(finding.rule);
    const { instances, groups } = targetsOf(finding);
    const targets = [...instances.map((id) => ({ id, kind: 'instance' as const })), ...groups.map((id) => ({ id, kind: 'group' as const }))];
    const destructive = mode === 'contain' || mode === 'replace';
    if (finding.rule === 'driftwarden-tamper') {
      if (destructive) {
        const response = planTamperResponse(event, finding, context, policy);
        humanActions.push(...response.humanActions);
        if (response.held.length > 0 && response.steps.length === 0) {
          held.push(...response.held);
          continue;
        }
        tamperResponses.set(finding.id, response);
      }
      actionable.push({ finding, mode });
      continue;
    }
    if (targets.length === 0) {
      actionable.push({ finding, mode });
      continue;
    }

    const reads = targets.map((t) => ({ ...t, read: tagsOf(t.id, t.kind) }));
    const known = reads.filter((r): r is typeof r & { read: { status: 'known'; tags: Record<string, string> } } => r.read.status === 'known');
    if (known.length > 0 && known.every((r) => quarantinedBefore(r.read.tags)) && known.length === reads.filter((r) => r.read.status !== 'gone').length) {
      quarantined.push(finding);
      continue;
    }

    const verdicts = known.map((r) => {
      let verdict = exemptionCache.get(r.id);
      if (!verdict) {
        verdict = evaluateExemption({ resourceId: r.id, tags: r.read.tags, writer: context.exemptionWriters[r.id], policy, now: context.now });
        exemptionCache.set(r.id, verdict);
        if ('warning' in verdict && verdict.warning) warnings.push(verdict.warning);
        if (verdict.status === 'valid') warnings.push(`${r.id} is exempt until ${verdict.until} (set by ${verdict.setBy}: ${verdict.reason}).`);
      }
      return verdict;
    });
    const unknownTags = reads.filter((r) => r.read.status === 'unknown');
    if (destructive && unknownTags.length > 0) {
      for (const r of unknownTags) held.push(`cannot read ${r.kind === 'instance' ? 'instance' : 'security group'} ${r.id} (${(r.read as { reason: string }).reason})`);
      continue;
    }
    if (destructive && verdicts.some((v) => v.status === 'unverifiable')) {
      held.push(`the exemption on ${known.filter((_, i) => verdicts[i].status === 'unverifiable').map((r) => r.id).join(', ')} cannot be verified`);
      continue;
    }
    if (verdicts.length > 0 && verdicts.length === reads.filter((r) => r.read.status !== 'gone').length && verdicts.every((v) => v.status === 'valid')) {
      exempt.push(finding);
      continue;
    }
    actionable.push({ finding, mode });
  }

  if (held.length > 0) {
    const what = [...new Set(held)];
    warnings.push(...what.map((w) => `Held: ${w}.`));
    const requested = active.reduce<Mode>((max, f) => (MODE_STRENGTH[modeOf(f.rule)] > MODE_STRENGTH[max] ? modeOf(f.rule) : max), 'observe');
    return plan('held', [notify(maxSeverity(active) ?? 'MEDIUM', `Held (fail closed): ${what.join('; ')}. driftwarden did not act; check the resource by hand.`)], { mode: requested });
  }
  if (actionable.length === 0) {
    if (exempt.length > 0) {
      return plan('exempt', [notify(maxSeverity(exempt) ?? 'MEDIUM', `Exempt: ${ruleList(exempt)} matched on a resource with a valid exemption; driftwarden did not act.`)]);
    }
    warnings.push(`The change is to a resource driftwarden already quarantined (${policy.quarantineTag}); it never acts on those.`);
    return plan('quarantined', []);
  }
  if (quarantined.length > 0) warnings.push(`Not acted on (already quarantined): ${ruleList(quarantined)}.`);
  if (exempt.length > 0) warnings.push(`Not acted on (exempt): ${ruleList(exempt)}.`);

  const tamperSteps: Step[] = [];
  const groupWork = new Map<string, GroupWork>();
  const instanceWork = new Map<string, InstanceWork>();
  let effective: Mode = 'observe';
  const raise = (mode: Mode): void => {
    if (MODE_STRENGTH[mode] > MODE_STRENGTH[effective]) effective = mode;
  };

  for (const { finding, mode } of actionable) {
    if (finding.launchTime) {
      const source = finding.launchSource ?? "the caller's RunInstances request";
      humanActions.push(`Fix ${source}: it launched ${finding.resources.filter((r) => r.type === 'instance').map((r) => r.id).join(', ') || 'the instance'} this way (${finding.rule}); replacing the instance would launch the same thing again.`);
    }
    if (mode === 'observe') continue;

    // Tampering is undone, never contained: the instance whose tag was changed is not isolated.
    const tamper = finding.rule === 'driftwarden-tamper' ? tamperResponses.get(finding.id) : undefined;
    if (tamper) {
      warnings.push(...tamper.warnings, ...tamper.held.map((h) => `Held: ${h}.`));
      if (tamper.steps.length > 0) {
        tamperSteps.push(...tamper.steps);
        raise('contain');
      } else {
        warnings.push(`driftwarden-tamper is in ${mode} mode but there is nothing driftwarden can undo itself: observed.`);
      }
      continue;
    }

    const { instances } = targetsOf(finding);
    let acted = false;
    for (const offending of finding.offendingRules ?? []) {
      if (offending.rules.length === 0) continue;
      const sg = context.securityGroups[offending.groupId];
      if (sg?.status === 'not-found') {
        warnings.push(`Security group ${offending.groupId} no longer exists: nothing to revoke.`);
        continue;
      }
      const work = groupWork.get(offending.groupId) ?? { groupId: offending.groupId, findingId: finding.id, rules: new Map<string, SgRule>(), summaries: [] };
      for (const rule of offending.rules) if (!work.rules.has(ruleKey(rule))) work.rules.set(ruleKey(rule), rule);
      work.summaries.push(finding.summary);
      groupWork.set(offending.groupId, work);
      acted = true;
      raise('contain');
    }

    for (const instanceId of instances) {
      const lookup = context.instances[instanceId];
      if (lookup?.status === 'not-found' || (lookup?.status === 'found' && GONE_STATES.has(lookup.value.state))) {
        warnings.push(`Instance ${instanceId} is ${lookup.status === 'found' ? lookup.value.state : 'gone (not found)'}: nothing to contain.`);
        continue;
      }
      if (lookup?.status !== 'found') continue; // unknown context was held above
      const work = instanceWork.get(instanceId) ?? {
        instanceId,
        context: lookup.value,
        findingId: finding.id,
        rules: [],
        summaries: [],
        replace: false,
        launchTime: false,
      };
      work.rules.push(finding.rule);
      work.summaries.push(finding.summary);
      if (finding.launchTime) work.launchTime = true;
      if (mode === 'replace' && !finding.launchTime) work.replace = true;
      instanceWork.set(instanceId, work);
      acted = true;
      raise('contain');
    }

    if (!acted) {
      const what = finding.rule === 'security-group-manual-change' || finding.offendingRules ? 'no rule was added, so there is nothing to revoke' : 'there is nothing driftwarden can contain for it';
      warnings.push(`${finding.rule} is in ${mode} mode but ${what}: observed.`);
      if (finding.rule === 'ssh-key-material' && finding.resources.some((r) => r.type === 'key-pair')) {
        humanActions.push(`Review key pair ${finding.resources.filter((r) => r.type === 'key-pair').map((r) => r.id).join(', ')}: delete it unless it is needed.`);
      }
    }
  }

  const steps: Step[] = [...tamperSteps];
  for (const work of groupWork.values()) {
    const rules = [...work.rules.values()];
    const step: RevokeRuleStep = {
      action: 'revoke-rule',
      resource: work.groupId,
      findingId: work.findingId,
      rules,
      reason: `Revoke ${rules.length === 1 ? 'the rule' : `${rules.length} rules`} that broke policy (${rules.map(describeRule).join('; ')}): ${[...new Set(work.summaries)].join('; ')}. The rest of the group is left as it is.`,
    };
    steps.push(step);
  }

  for (const work of instanceWork.values()) {
    const instance = work.context;
    const why = [...new Set(work.summaries)].join('; ');
    const ruleNames = [...new Set(work.rules)].join(', ');
    const isolate: IsolateInstanceStep = {
      action: 'isolate-instance',
      resource: work.instanceId,
      findingId: work.findingId,
      ...(instance.vpcId ? { vpcId: instance.vpcId } : {}),
      networkInterfaces: instance.networkInterfaces.map((eni) => ({ networkInterfaceId: eni.networkInterfaceId, groups: [...eni.groups] })),
      forensicHold: holdSeconds > 0,
      ...(instance.terminationProtection !== undefined ? { terminationProtection: instance.terminationProtection } : {}),
      ...(instance.shutdownBehavior !== undefined ? { shutdownBehavior: instance.shutdownBehavior } : {}),
      driftwardenTags: Object.fromEntries(Object.entries(instance.tags).filter(([key]) => key.startsWith(DRIFTWARDEN_TAG_PREFIX))),
      reason: `Isolate ${work.instanceId} (${ruleNames}): ${why}. Its current groups are recorded for release.`,
    };
    steps.push(isolate);
    if (instance.volumes.length > 0) {
      const snapshot: SnapshotVolumesStep = {
        action: 'snapshot-volumes',
        resource: work.instanceId,
        findingId: work.findingId,
        volumeIds: instance.volumes.map((v) => v.volumeId),
        reason: `Keep evidence: snapshot every volume attached to ${work.instanceId} before anything else changes it.`,
      };
      steps.push(snapshot);
    } else {
      warnings.push(`Instance ${work.instanceId} has no attached volume to snapshot.`);
    }
    const tag: TagStep = {
      action: 'tag',
      resource: work.instanceId,
      findingId: work.findingId,
      tags: { [policy.quarantineTag]: work.findingId, [REASON_TAG]: truncate(`${ruleNames}: ${why}`, TAG_VALUE_MAX) },
      reason: `Mark ${work.instanceId} quarantined, so that later changes to it never trigger actions and a human can find it.`,
    };
    steps.push(tag);

    const replaceable = work.replace && !work.launchTime;
    const viaGroup = replaceable && instance.autoScalingGroup !== undefined;
    const viaStack = replaceable && !viaGroup && instance.stack !== undefined;
    const targetGroups = instance.targetGroups ?? [];
    if (viaGroup || targetGroups.length > 0) {
      const detach: DetachStep = {
        action: 'detach',
        resource: work.instanceId,
        findingId: work.findingId,
        ...(viaGroup ? { autoScalingGroup: instance.autoScalingGroup } : {}),
        targetGroupArns: [...targetGroups],
        reason: viaGroup
          ? `Detach ${work.instanceId} from Auto Scaling group ${instance.autoScalingGroup}${targetGroups.length > 0 ? ' and its target groups' : ''} without lowering desired capacity, so the group launches a fresh instance and the isolated one serves no traffic.`
          : `Take ${work.instanceId} out of its target groups, so the isolated instance serves no traffic.`,
      };
      steps.push(detach);
    }
    if (work.replace && work.launchTime) {
      warnings.push(`${work.instanceId} is contained, not replaced: a launch-time finding names it, and a replacement would launch the same thing again.`);
    } else if (work.replace && !viaGroup && !viaStack) {
      humanActions.push(`cannot replace: ${work.instanceId} is not in a CloudFormation stack or Auto Scaling group; it stays isolated until a human replaces or releases it.`);
    }
    if (viaGroup || viaStack) {
      const replace: ReplaceStep = viaGroup
        ? {
            action: 'replace',
            resource: work.instanceId,
            findingId: work.findingId,
            via: 'auto-scaling-group',
            autoScalingGroup: instance.autoScalingGroup,
            reason: `Replace ${work.instanceId} through its Auto Scaling group ${instance.autoScalingGroup}: the detach keeps desired capacity, so the group launches a clean instance from its launch template (a stack update would roll the whole fleet).`,
          }
        : {
            action: 'replace',
            resource: work.instanceId,
            findingId: work.findingId,
            via: 'stack',
            stackName: instance.stack?.stackName,
            ...(instance.stack?.logicalId ? { logicalId: instance.stack.logicalId } : {}),
            clientRequestToken: replacementToken(work.findingId),
            reason: `Replace ${work.instanceId} with a clean instance by updating stack ${instance.stack?.stackName} with a new replacement token.`,
          };
      steps.push(replace);
      const terminate: TerminateStep = {
        action: 'terminate',
        resource: work.instanceId,
        findingId: work.findingId,
        // A stack update is only asked for here: its instance is in service when the watcher sees
        // UPDATE_COMPLETE, and only then may the old one go, hold or no hold (a rollback must
        // find the old one still there). An Auto Scaling group keeps its capacity by itself, so
        // with no hold the detached member goes at once.
        when: holdSeconds === 0 && viaGroup ? 'now' : 'after-replacement',
        holdSeconds,
        force: policy.forensicHold.force,
        reason:
          holdSeconds === 0 && viaGroup
            ? `Terminate ${work.instanceId}: no forensic hold is configured, and its group keeps the capacity.`
            : holdSeconds === 0
              ? `Terminate ${work.instanceId} as soon as the watcher sees its replacement in service (no forensic hold).`
              : `Terminate ${work.instanceId} once its replacement is in service and the forensic hold (${holdSeconds} s) has passed.`,
      };
      steps.push(terminate);
      raise('replace');
    }
  }

  const severity = maxSeverity(actionable.map((a) => a.finding)) ?? maxSeverity(findings) ?? 'MEDIUM';
  const decision: Decision = effective;
  const onlyTamper = actionable.every((a) => a.finding.rule === 'driftwarden-tamper');
  const verb = decision === 'observe' ? 'Observed' : decision === 'contain' ? (onlyTamper ? 'Reverted' : 'Contained') : 'Contained and replacing';
  steps.push(notify(severity, `${verb}: ${actionable.map((a) => a.finding.summary).join('; ')}`, actionable[0].finding.id));
  return plan(decision, steps, { mode: effective, severity });
}
