/**
 * Decisions, steps and plans: the contract between the core, the executor, the alerts,
 * the audit trail and the tests. The values here are documented in the README
 * ("Decisions and steps"); change them only with that table.
 */
import type { Finding, NotConfigured, ResourceRef, Severity, SgRule } from './model';
import type { Mode } from './policy/schema';

/**
 * What driftwarden decided for one event.
 * - `no-finding`: no rule matched.
 * - `trusted`: only actor-sensitive rules matched and the actor is trusted (recorded, not alerted).
 * - `failed-call`: the call failed (errorCode); nothing changed. Reported as an attempt when the policy asks.
 * - `off`: every matching rule is off.
 * - `exempt`: the resource carries a valid exemption.
 * - `observe`: alert only.
 * - `contain`: revoke or isolate, evidence, alert.
 * - `replace`: contain, then replace (stack update or Auto Scaling group) and terminate after the hold.
 * - `quarantined`: the change is to a resource driftwarden already quarantined; never acted on (no loops).
 * - `held`: driftwarden would act but could not read what it needs (context, exemption, ownership),
 *   so it fails closed: it does not act, and it says so.
 */
export type Decision =
  | 'no-finding'
  | 'trusted'
  | 'failed-call'
  | 'off'
  | 'exempt'
  | 'observe'
  | 'contain'
  | 'replace'
  | 'quarantined'
  | 'held';

/** The step names, in the order a plan runs them. */
export const STEP_ORDER = [
  'revoke-rule',
  'revert-tags',
  'restore-logging',
  'isolate-instance',
  'snapshot-volumes',
  'tag',
  'detach',
  'notify',
  'replace',
  'terminate',
] as const;
export type StepAction = (typeof STEP_ORDER)[number];

interface StepBase {
  action: StepAction;
  /** The resource the step acts on (a security-group id, an instance id, a trail or a Config recorder). */
  resource: string;
  /** Why this step is in the plan, for humans. */
  reason: string;
  /** The finding that caused this step (the first one, when several merge). */
  findingId: string;
}

export interface RevokeRuleStep extends StepBase {
  action: 'revoke-rule';
  /** Exactly the offending rules; never the whole group. */
  rules: SgRule[];
}

/**
 * Undo an untrusted actor's change to driftwarden's own tags (`driftwarden:*`) on one
 * resource (driftwarden-tamper): the keys it added are deleted, the keys it deleted are put
 * back with their previous value. Containment: it runs first, with revoke and isolate.
 */
export interface RevertTagsStep extends StepBase {
  action: 'revert-tags';
  /** Tag keys the actor added: deleted (DeleteTags with exactly these keys, never others). */
  remove: string[];
  /** Tag keys the actor deleted, with the value they are restored to (CreateTags). */
  restore: { key: string; value: string }[];
}

/**
 * Restart what an untrusted actor stopped (driftwarden-tamper): CloudTrail logging on a
 * trail (StartLogging) or an AWS Config recorder (StartConfigurationRecorder). `resource`
 * is the trail name or ARN, or the recorder name, as the actor's call named it.
 */
export interface RestoreLoggingStep extends StepBase {
  action: 'restore-logging';
  service: 'cloudtrail' | 'config';
}

export interface IsolateInstanceStep extends StepBase {
  action: 'isolate-instance';
  vpcId?: string;
  /** Every interface, with the groups it has now (recorded for release). */
  networkInterfaces: { networkInterfaceId: string; groups: string[] }[];
  /** Forensic hold: enable termination protection and shutdown behaviour "stop". */
  forensicHold: boolean;
  // What the context read says about the instance, so that the executor need not read it again
  // before moving it (a round trip saved on the way to containment). All optional: a step
  // without `terminationProtection` makes the executor read the instance itself.
  /** DisableApiTermination when the context was read. */
  terminationProtection?: boolean;
  /** instanceInitiatedShutdownBehavior when the context was read. */
  shutdownBehavior?: string;
  /** The instance's `driftwarden:*` tags when the context was read (an earlier isolation's record). */
  driftwardenTags?: Record<string, string>;
}

export interface SnapshotVolumesStep extends StepBase {
  action: 'snapshot-volumes';
  volumeIds: string[];
}

export interface TagStep extends StepBase {
  action: 'tag';
  /** Tag values; the executor adds the time. */
  tags: Record<string, string>;
}

export interface DetachStep extends StepBase {
  action: 'detach';
  /** Detached without decrementing desired capacity, so the group launches a fresh instance. */
  autoScalingGroup?: string;
  targetGroupArns: string[];
}

export interface NotifyStep extends StepBase {
  action: 'notify';
  severity: Severity;
}

export interface ReplaceStep extends StepBase {
  action: 'replace';
  /** `stack`: update the stack with a changed replacement parameter; `auto-scaling-group`: the detach already made the group launch a fresh one. */
  via: 'stack' | 'auto-scaling-group';
  stackName?: string;
  /** The instance's logical id in the stack (drift confirmation, the watcher). */
  logicalId?: string;
  autoScalingGroup?: string;
  /** ClientRequestToken for the stack update, so the watcher recognises its own update. */
  clientRequestToken?: string;
}

export interface TerminateStep extends StepBase {
  action: 'terminate';
  /** `replacement`: after the replacement is in service and the hold has passed; `now`: no hold. */
  when: 'now' | 'after-replacement';
  /** Forensic hold in seconds (0 = none). */
  holdSeconds: number;
  /** Whether termination may lift protection that someone else set. */
  force: boolean;
}

export type Step =
  | RevokeRuleStep
  | RevertTagsStep
  | RestoreLoggingStep
  | IsolateInstanceStep
  | SnapshotVolumesStep
  | TagStep
  | DetachStep
  | NotifyStep
  | ReplaceStep
  | TerminateStep;

export interface Plan {
  /** Idempotency key: the event id (CloudTrail eventID, Config resource+change, or sweep violation key). */
  key: string;
  eventId: string;
  decision: Decision;
  /** The strongest mode among the matching rules, after exemptions and limits. */
  mode?: Mode;
  severity?: Severity;
  findings: Finding[];
  notConfigured: NotConfigured[];
  /** Ordered: containment first. */
  steps: Step[];
  /** True when no mutating step may run (policy dryRun, replay without --execute). */
  dryRun: boolean;
  /** What is left for a human: "fix launch template lt-0abc", "instance not in a stack: cannot replace". */
  humanActions: string[];
  /** Warnings for the alert and the log (weak trust default, malformed exemption, unknown context). */
  warnings: string[];
  /** The resources the plan is about, for the alert and the audit trail. */
  resources: ResourceRef[];
}

export type StepStatus = 'done' | 'already-done' | 'skipped' | 'failed' | 'deferred';

export interface StepOutcome {
  action: StepAction;
  resource: string;
  status: StepStatus;
  /** What happened, for humans: "revoked sgr-0abc", "AccessDenied: …". */
  detail: string;
  /** For failures: the AWS error name, for the fault matrix and the alert. */
  errorName?: string;
  /** Ids the step produced: snapshot ids, isolation group id, stack id. */
  produced?: Record<string, unknown>;
}
