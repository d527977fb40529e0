/**
 * The one change-event model that every input is normalized into.
 *
 * CloudTrail records (via EventBridge, bare, or from S3 log files) and AWS Config
 * configuration-item changes all become a `ChangeEvent`, or a typed `Rejection`.
 * Everything downstream (rules, policy, plan) reads only this model, never the raw
 * record; the raw record is kept for the audit trail.
 */

/** The identity types CloudTrail writes in `userIdentity.type`; `Unknown` when it is missing. */
export type ActorType =
  | 'IAMUser'
  | 'AssumedRole'
  | 'Root'
  | 'FederatedUser'
  | 'IdentityCenterUser'
  | 'SAMLUser'
  | 'WebIdentityUser'
  | 'AWSService'
  | 'AWSAccount'
  | 'Unknown';

/** Who made the change. */
export interface Actor {
  type: ActorType;
  /**
   * The caller's ARN as CloudTrail records it (for an AssumedRole, the session ARN
   * `arn:aws:sts::111122223333:assumed-role/Role/session`). Absent for AWSService.
   */
  arn?: string;
  /** For an AssumedRole: the role that issued the session (`sessionContext.sessionIssuer.arn`). */
  issuerArn?: string;
  /** A short human name: IAM user name, role/session, service name, or "root". */
  name: string;
  accountId?: string;
  principalId?: string;
  /** A service acting for the caller: `cloudformation.amazonaws.com`, `autoscaling.amazonaws.com`, `AWS Internal` (console). */
  invokedBy?: string;
  sourceIp?: string;
  userAgent?: string;
}

/** Kinds of resources that findings and steps name. */
export type ResourceType = 'security-group' | 'instance' | 'key-pair' | 'image' | 'launch-template' | 'stack' | 'other';

export interface ResourceRef {
  type: ResourceType;
  id: string;
}

/**
 * One security-group rule, in AWS's own "one source per rule" model:
 * a permission that lists three CIDRs is three `SgRule`s.
 */
export interface SgRule {
  /** `sgr-…`, when CloudTrail's response or the Config item names it. */
  ruleId?: string;
  direction: 'ingress' | 'egress';
  /** Lower-case protocol as AWS spells it: `tcp`, `udp`, `icmp`, `icmpv6`, `-1` (all), or a protocol number. */
  protocol: string;
  /** Absent for protocol -1; for ICMP these are type and code. */
  fromPort?: number;
  toPort?: number;
  cidrIpv4?: string;
  cidrIpv6?: string;
  prefixListId?: string;
  referencedGroupId?: string;
  description?: string;
}

/** A change to the rules of one security group. */
export interface SecurityGroupChange {
  kind: 'security-group';
  groupId: string;
  /**
   * authorize: rules added; revoke: rules removed; modify: ModifySecurityGroupRules (the new
   * form of each rule); describe: only descriptions changed.
   */
  operation: 'authorize' | 'revoke' | 'modify' | 'describe';
  rules: SgRule[];
  /**
   * True when the call named the group only by its name (`groupName`, default VPC), so
   * `groupId` holds that name, not an `sg-…` id.
   */
  groupIdIsName?: boolean;
}

/** An instance launch (RunInstances), or a Config item that shows how an instance was launched. */
export interface InstanceLaunch {
  kind: 'instance-launch';
  instanceIds: string[];
  imageId?: string;
  keyName?: string;
  launchTemplate?: { id?: string; name?: string; version?: string };
}

/** An in-place change to existing instances (ModifyInstanceAttribute, StopInstances, …). */
export interface InstanceChange {
  kind: 'instance-change';
  instanceIds: string[];
  /** What changed, for the alert: e.g. `instanceType`, `userData`, `groupSet`, `stop`. */
  attribute?: string;
  /** Volumes, interfaces or profiles involved, for the alert. */
  related?: string[];
}

/** A shell or command channel opened on instances. */
export interface ShellAccess {
  kind: 'shell-access';
  instanceIds: string[];
  channel: 'ssm-session' | 'ssm-command' | 'instance-connect' | 'serial-console';
  /**
   * Targets that are not instance ids, as human text (SendCommand `Targets` such as
   * `tag:Role=web`, or `resource-groups:Name=web`): the command reaches instances that the
   * event does not name.
   */
  targets?: string[];
  documentName?: string;
  osUser?: string;
}

/** A key pair created or imported into the account. */
export interface KeyPairChange {
  kind: 'key-pair';
  keyName: string;
  operation: 'create' | 'import';
}

/**
 * A Config configuration-item change. `rules`, `imageId` and `keyName` are read from the
 * item's configuration when it is present; an oversized item (only a
 * `configurationItemSummary`) carries none of them and says so.
 */
export interface ConfigItemChange {
  kind: 'config-item';
  resourceType: 'AWS::EC2::SecurityGroup' | 'AWS::EC2::Instance' | string;
  resourceId: string;
  changeType: 'CREATE' | 'UPDATE' | 'DELETE' | string;
  status: string;
  oversized: boolean;
  /** Current ingress and egress rules of a security group. */
  rules?: SgRule[];
  /** Rules present now that were absent before, from configurationItemDiff (when it says). */
  addedRules?: SgRule[];
  imageId?: string;
  keyName?: string;
  tags?: Record<string, string>;
}

/** Changes to driftwarden's own controls and to the trail and Config (the tamper rule reads these). */
export interface ControlChange {
  kind: 'control';
  /** e.g. `cloudtrail`, `config`, `events`, `lambda`, `ssm`, `tags`. */
  service: string;
  target?: string;
  /** Tag keys added or removed, for CreateTags/DeleteTags. */
  tagKeys?: string[];
  resourceIds?: string[];
  details?: Record<string, unknown>;
}

export interface OtherChange {
  kind: 'other';
}

export type Change =
  | SecurityGroupChange
  | InstanceLaunch
  | InstanceChange
  | ShellAccess
  | KeyPairChange
  | ConfigItemChange
  | ControlChange
  | OtherChange;

export type EventOrigin = 'cloudtrail' | 'config' | 'sweep';

export interface ChangeEvent {
  /**
   * Stable identity of this change: the CloudTrail eventID, or for a Config item
   * `config:<resourceId>:<configurationStateId|captureTime>`. Idempotency keys derive from it.
   */
  id: string;
  origin: EventOrigin;
  /** e.g. `ec2.amazonaws.com`, `ssm.amazonaws.com`, or `config.amazonaws.com` for Config items. */
  eventSource: string;
  /** e.g. `AuthorizeSecurityGroupIngress`, or `ConfigurationItemChange`. */
  eventName: string;
  /** ISO-8601 UTC. */
  time: string;
  accountId: string;
  region: string;
  actor: Actor;
  /** Set when CloudTrail recorded an errorCode: the call failed and changed nothing. */
  failure?: { errorCode: string; errorMessage?: string };
  /** CloudTrail's readOnly, or derived from the event name (Describe/Get/List). */
  readOnly: boolean;
  /** Every resource the change names, for the audit trail and for context lookups. */
  resources: ResourceRef[];
  change: Change;
  /** The record as received (a CloudTrail record or a Config item event), for the audit trail. */
  raw: unknown;
}

/** Why an input was not turned into a ChangeEvent. */
export type RejectionCode =
  | 'not-json'
  | 'not-an-object'
  | 'unsupported-detail-type'
  | 'missing-field'
  | 'invalid-field'
  | 'too-large'
  | 'too-deep';

export interface Rejection {
  rejected: true;
  code: RejectionCode;
  /** Human sentence: what was wrong and where. */
  reason: string;
  /** Best-effort identity of the input, for logs. */
  eventId?: string;
  eventName?: string;
}

export type NormalizeResult = { rejected: false; event: ChangeEvent } | Rejection;

export type Severity = 'LOW' | 'MEDIUM' | 'HIGH' | 'CRITICAL';

export const SEVERITY_ORDER: Record<Severity, number> = { LOW: 0, MEDIUM: 1, HIGH: 2, CRITICAL: 3 };

export type RuleId =
  | 'admin-port-open-to-world'
  | 'security-group-manual-change'
  | 'instance-manual-change'
  | 'shell-access'
  | 'unapproved-ami'
  | 'ssh-key-material'
  | 'driftwarden-tamper';

export const RULE_IDS: readonly RuleId[] = [
  'admin-port-open-to-world',
  'security-group-manual-change',
  'instance-manual-change',
  'shell-access',
  'unapproved-ami',
  'ssh-key-material',
  'driftwarden-tamper',
];

/** What one rule found in one event. */
export interface Finding {
  /** Deterministic: `<rule>:<event id>`; a finding id is the ClientRequestToken and the quarantine tag. */
  id: string;
  rule: RuleId;
  severity: Severity;
  /** One line for humans: "SSH (22/tcp) opened to 0.0.0.0/0 on sg-0abc". */
  summary: string;
  resources: ResourceRef[];
  /** For security-group findings: exactly the rules to revoke (never the whole group). */
  offendingRules?: { groupId: string; rules: SgRule[] }[];
  /**
   * Set on launch-time findings (unapproved-ami, ssh-key-material at launch): the instance
   * was launched this way, so replacing it would launch the same thing again.
   */
  launchTime?: boolean;
  /** For launch-time findings: what launched it, to fix (launch template, stack, or the caller). */
  launchSource?: string;
}

/** A rule that cannot judge because its configuration is missing says so; it never guesses. */
export interface NotConfigured {
  rule: RuleId;
  reason: string;
}
