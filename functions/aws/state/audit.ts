/**
 * The audit trail: what driftwarden decided about each change, what it did, and what it saw,
 * kept for `retentionDays` in the state table. Every decision for a matched event is recorded,
 * "no action" ones included (trusted, exempt, held, off): an audit that only lists actions
 * cannot answer "why did driftwarden NOT act?".
 *
 * Items (state table):
 * - one per (resource, decision): pk `resource#<id>`, sk `<decidedAt>#<eventId>`, so that a
 *   resource's history is one Query;
 * - for an event that names no resource: pk `event#<eventId>`, sk `decision`;
 * - the first item of each decision also carries gsi1pk `day#<YYYY-MM-DD>`, gsi1sk
 *   `<decidedAt>#<eventId>`, so that a time range is one Query per day and lists each decision
 *   once (the other resources' items stay out of the index: sparse, and no duplicates);
 * - expiresAt = decidedAt + retention (the table's TTL).
 *
 * The raw record is stored with credentials redacted, as JSON text (DynamoDB maps nest at most
 * 32 levels; a CloudTrail record need not respect that), and capped at ~100 KB so that the item
 * stays well under DynamoDB's 400 KB.
 */
import type { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { PutCommand, type DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import type { Plan, StepOutcome } from '../../core/decision';
import type { ChangeEvent } from '../../core/model';
import {
  type Clock,
  StateConfigError,
  StateInputError,
  StateUnavailableError,
  describeError,
  documentClient,
  epochSeconds,
  queryAllPages,
  stateTableName,
  systemClock,
} from './shared';

/** What `AuditTrail` needs from IAM (Query on the table and its byTime index). */
export const IAM_ACTIONS = ['dynamodb:PutItem', 'dynamodb:Query'] as const;

export const DEFAULT_RETENTION_DAYS = 365;
/** The raw record is cut past this many characters of JSON. */
export const MAX_RAW_CHARS = 100_000;
/** Past this size (UTF-8 bytes of the JSON of the whole item) outcomes' details, then findings, are cut too. */
const MAX_ITEM_BYTES = 350_000;
/** How deep `redactSecrets` descends; deeper values are replaced, not copied. */
export const MAX_REDACTION_DEPTH = 64;
export const REDACTED = '[REDACTED]';

export interface AuditTrailOptions {
  /** The state table. Default: env DRIFTWARDEN_STATE_TABLE. */
  tableName?: string;
  /** How long records are kept, in days. Default: env DRIFTWARDEN_AUDIT_RETENTION_DAYS, else 365. */
  retentionDays?: number;
  /** The GSI queried by `byTime`. Default `byTime`. */
  indexName?: string;
  /** The DynamoDB client. Default: a new client configured from AWS_REGION / AWS_ENDPOINT_URL. */
  client?: DynamoDBClient;
  /** The clock (for `byTime`'s default end). Default: the system clock. */
  now?: Clock;
}

export interface AuditEntryInput {
  event: ChangeEvent;
  plan: Plan;
  /** Outcomes of the steps that ran (empty for no-action decisions). */
  outcomes: StepOutcome[];
  /** ISO-8601 UTC time of the decision. */
  decidedAt: string;
}

/** One audit record as read back. */
export interface AuditRecord {
  pk: string;
  sk: string;
  /** The resource this item files the decision under; absent for event-only items. */
  resourceId?: string;
  eventId: string;
  eventName: string;
  eventSource: string;
  eventTime: string;
  origin: string;
  accountId: string;
  region: string;
  decidedAt: string;
  decision: Plan['decision'];
  mode?: string;
  severity?: string;
  dryRun: boolean;
  rules: string[];
  /** Every resource the decision is about. */
  resources: { type: string; id: string }[];
  actor: ChangeEvent['actor'];
  findings: { id: string; rule: string; severity: string; summary: string }[];
  steps: Plan['steps'];
  outcomes: StepOutcome[];
  humanActions: string[];
  warnings: string[];
  /** The raw record, redacted, as JSON text (cut when `rawTruncated`). */
  raw: string;
  rawTruncated: boolean;
  /** Original length of the redacted raw JSON, when it was truncated. */
  rawOriginalChars?: number;
  /** True when findings or outcomes were cut to keep the item under DynamoDB's limit. */
  itemTruncated?: boolean;
  expiresAt: number;
}

export class AuditTrail {
  readonly tableName: string;
  readonly retentionDays: number;
  readonly indexName: string;
  private readonly documents: DynamoDBDocumentClient;
  private readonly now: Clock;

  constructor(options: AuditTrailOptions = {}) {
    this.tableName = stateTableName(options.tableName, 'AuditTrail');
    const fromEnv = process.env.DRIFTWARDEN_AUDIT_RETENTION_DAYS;
    const retention = options.retentionDays ?? (fromEnv !== undefined && fromEnv.trim() !== '' ? Number(fromEnv) : DEFAULT_RETENTION_DAYS);
    if (!Number.isInteger(retention) || retention < 1) {
      throw new StateConfigError(`AuditTrail: retentionDays must be a positive integer, got ${String(options.retentionDays ?? fromEnv)}`, {
        option: 'retentionDays',
      });
    }
    this.retentionDays = retention;
    this.indexName = options.indexName ?? 'byTime';
    this.documents = documentClient(options.client);
    this.now = options.now ?? systemClock;
  }

  /**
   * Record one decision: one item per resource the plan (or, failing that, the event) names, or
   * one event item. Returns the keys written. Throws `StateUnavailableError` when a write fails,
   * so that the caller can say the audit is incomplete.
   */
  async record(entry: AuditEntryInput): Promise<{ pk: string; sk: string }[]> {
    const items = this.itemsFor(entry);
    const written: { pk: string; sk: string }[] = [];
    const failures: string[] = [];
    await Promise.all(
      items.map(async (item) => {
        try {
          await this.documents.send(new PutCommand({ TableName: this.tableName, Item: item }));
          written.push({ pk: String(item.pk), sk: String(item.sk) });
        } catch (error) {
          failures.push(`${String(item.pk)}: ${describeError(error)}`);
        }
      }),
    );
    if (failures.length > 0) {
      throw new StateUnavailableError(`audit record of ${entry.event.id} incomplete: ${failures.join('; ')}`, {
        eventId: entry.event.id,
        written: written.length,
      });
    }
    return written;
  }

  /**
   * Record a follow-up to an earlier decision (the watcher's "replaced", "kept", "terminated";
   * the sweeper's terminations after the hold), filed under every resource it names and on the
   * day index, like a decision, with `followUpOf` naming the original event.
   */
  async recordFollowUp(entry: {
    followUpOf: string;
    status: string;
    detail: string;
    resources: string[];
    accountId?: string;
    region?: string;
    decidedAt: string;
    outcomes?: StepOutcome[];
  }): Promise<{ pk: string; sk: string }[]> {
    const decided = new Date(entry.decidedAt);
    if (Number.isNaN(decided.getTime())) throw new StateInputError(`audit: decidedAt is not a time: ${String(entry.decidedAt)}`, { eventId: entry.followUpOf });
    const decidedAt = decided.toISOString();
    const eventId = `${entry.followUpOf}#${entry.status}`;
    const sortKey = `${decidedAt}#${eventId}`;
    const resources = [...new Set(entry.resources.filter((r) => typeof r === 'string' && r.trim() !== ''))];
    const common = {
      eventId,
      followUpOf: entry.followUpOf,
      eventName: 'follow-up',
      decision: entry.status,
      detail: entry.detail.slice(0, 2000),
      accountId: entry.accountId,
      region: entry.region,
      decidedAt,
      resources: resources.map((id) => ({ type: id.startsWith('i-') ? 'instance' : 'other', id })),
      outcomes: redactSecrets(entry.outcomes ?? []),
      expiresAt: epochSeconds(decided) + this.retentionDays * 86_400,
    };
    const keys = (resources.length > 0 ? resources : [eventId]).map((id, i) => ({
      ...common,
      pk: resources.length > 0 ? `resource#${id}` : `event#${eventId}`,
      sk: resources.length > 0 ? sortKey : 'decision',
      ...(resources.length > 0 ? { resourceId: id } : {}),
      ...(i === 0 ? { gsi1pk: `day#${decidedAt.slice(0, 10)}`, gsi1sk: sortKey } : {}),
    }));
    await Promise.all(keys.map((Item) => this.documents.send(new PutCommand({ TableName: this.tableName, Item }))));
    return keys.map((k) => ({ pk: k.pk, sk: k.sk }));
  }

  /** A resource's decisions, oldest first, optionally within [from, to] (ISO-8601). */
  async byResource(resourceId: string, range: { from?: string; to?: string } = {}): Promise<AuditRecord[]> {
    const id = typeof resourceId === 'string' ? resourceId.trim() : '';
    if (id === '') throw new StateInputError('audit: byResource needs a resource id', {});
    return this.queryAll(
      {
        KeyConditionExpression: 'pk = :pk AND sk BETWEEN :from AND :to',
        ExpressionAttributeValues: { ':pk': `resource#${id}`, ':from': range.from ?? '0000', ':to': `${range.to ?? '9999'}\uffff` },
      },
      `resource ${id}`,
    );
  }

  /**
   * Every decision in [from, to] (ISO-8601), oldest first, each listed once: one Query per UTC
   * day on the byTime index, each paginated. `to` defaults to now.
   */
  async byTime(from: string, to: string = this.now().toISOString()): Promise<AuditRecord[]> {
    const start = new Date(from);
    const end = new Date(to);
    if (Number.isNaN(start.getTime()) || Number.isNaN(end.getTime())) {
      throw new StateInputError(`audit: byTime needs ISO-8601 times, got ${from} .. ${to}`, {});
    }
    if (start > end) return [];
    const days = daysBetween(start, end);
    if (days.length > MAX_RANGE_DAYS) {
      throw new StateInputError(`audit: byTime range of ${days.length} days is longer than ${MAX_RANGE_DAYS}`, { from, to });
    }
    const records: AuditRecord[] = [];
    for (const day of days) {
      records.push(
        ...(await this.queryAll(
          {
            IndexName: this.indexName,
            KeyConditionExpression: 'gsi1pk = :day AND gsi1sk BETWEEN :from AND :to',
            ExpressionAttributeValues: { ':day': `day#${day}`, ':from': start.toISOString(), ':to': `${end.toISOString()}\uffff` },
          },
          `day ${day}`,
        )),
      );
    }
    return records;
  }

  /** The items `record` writes, without writing them (pure apart from the retention setting). */
  itemsFor(entry: AuditEntryInput): Record<string, unknown>[] {
    const { event, plan, outcomes } = entry;
    const decided = new Date(entry.decidedAt);
    if (Number.isNaN(decided.getTime())) throw new StateInputError(`audit: decidedAt is not a time: ${String(entry.decidedAt)}`, { eventId: event?.id });
    if (typeof event?.id !== 'string' || event.id === '') throw new StateInputError('audit: the event has no id', {});
    const decidedAt = decided.toISOString();
    const sortKey = `${decidedAt}#${event.id}`;

    const resources = uniqueResources(plan.resources.length > 0 ? plan.resources : event.resources);
    const rawJson = safeJson(redactSecrets(event.raw));
    const rawTruncated = rawJson.length > MAX_RAW_CHARS;
    const common: Record<string, unknown> = {
      eventId: event.id,
      eventName: event.eventName,
      eventSource: event.eventSource,
      eventTime: event.time,
      origin: event.origin,
      accountId: event.accountId,
      region: event.region,
      decidedAt,
      decision: plan.decision,
      mode: plan.mode,
      severity: plan.severity,
      dryRun: plan.dryRun,
      rules: [...new Set(plan.findings.map((finding) => finding.rule))],
      resources,
      actor: redactSecrets(event.actor),
      findings: plan.findings.map((finding) => ({ id: finding.id, rule: finding.rule, severity: finding.severity, summary: finding.summary })),
      steps: redactSecrets(plan.steps),
      outcomes: redactSecrets(outcomes),
      humanActions: plan.humanActions,
      warnings: plan.warnings,
      raw: rawTruncated ? rawJson.slice(0, MAX_RAW_CHARS) : rawJson,
      rawTruncated,
      ...(rawTruncated ? { rawOriginalChars: rawJson.length } : {}),
      expiresAt: epochSeconds(decided) + this.retentionDays * 86_400,
    };
    fitItem(common);

    const byTime = { gsi1pk: `day#${decidedAt.slice(0, 10)}`, gsi1sk: sortKey };
    if (resources.length === 0) return [{ pk: `event#${event.id}`, sk: 'decision', ...common, ...byTime }];
    return resources.map((resource, index) => ({
      pk: `resource#${resource.id}`,
      sk: sortKey,
      resourceId: resource.id,
      ...common,
      ...(index === 0 ? byTime : {}),
    }));
  }

  private async queryAll(
    input: { IndexName?: string; KeyConditionExpression: string; ExpressionAttributeValues: Record<string, unknown> },
    what: string,
  ): Promise<AuditRecord[]> {
    try {
      return (await queryAllPages(this.documents, { TableName: this.tableName, ...input })) as unknown as AuditRecord[];
    } catch (error) {
      throw new StateUnavailableError(`audit: could not read ${what}: ${describeError(error)}`, { table: this.tableName }, { cause: error });
    }
  }
}

// ─── Redaction ──────────────────────────────────────────────────────────────────────────────

/** Keys whose values are secrets whatever they hold (compared without case, `-` and `_`). */
const SECRET_KEYS = new Set(['secretaccesskey', 'sessiontoken', 'xamzsecuritytoken', 'privatekey', 'keymaterial']);
/** Access key ids: AKIA (long-term) and ASIA (temporary), 16 more upper-case letters or digits. */
const ACCESS_KEY_ID = /\b(?:AKIA|ASIA)[A-Z0-9]{16}\b/g;
/** A security token inside a query string or header text (presigned URLs, logged headers). */
const TOKEN_IN_TEXT = /(x-amz-security-token["']?\s*[=:]\s*["']?)[^&\s"',;]+/gi;

function isSecretKey(key: string): boolean {
  const normalised = key.toLowerCase().replace(/[-_]/g, '');
  return SECRET_KEYS.has(normalised) || normalised.includes('password');
}

/**
 * A copy of `value` with credentials replaced by "[REDACTED]": the values of keys named
 * secretAccessKey, sessionToken, x-amz-security-token, privateKey, keyMaterial (CreateKeyPair's
 * private key) or containing "password", any AKIA/ASIA access key id anywhere in a string, and a
 * security token embedded in text. Recursive and depth-bounded (deeper values become
 * "[TRUNCATED: too deep]"); cycles become "[CIRCULAR]". The input is not modified.
 */
export function redactSecrets<T>(value: T, maxDepth: number = MAX_REDACTION_DEPTH): T {
  return redact(value, 0, maxDepth, new WeakSet<object>()) as T;
}

function redact(value: unknown, depth: number, maxDepth: number, seen: WeakSet<object>): unknown {
  if (typeof value === 'string') return redactText(value);
  if (value === null || typeof value !== 'object') return value;
  if (depth >= maxDepth) return '[TRUNCATED: too deep]';
  if (seen.has(value)) return '[CIRCULAR]';
  seen.add(value);
  try {
    if (Array.isArray(value)) return value.map((item) => redact(item, depth + 1, maxDepth, seen));
    const copy: Record<string, unknown> = {};
    for (const [key, child] of Object.entries(value as Record<string, unknown>)) {
      copy[key] = isSecretKey(key) && child !== null && child !== undefined && child !== '' ? REDACTED : redact(child, depth + 1, maxDepth, seen);
    }
    return copy;
  } finally {
    // A value shared by two branches (not a cycle) is redacted in both.
    seen.delete(value);
  }
}

function redactText(text: string): string {
  return text.replace(ACCESS_KEY_ID, REDACTED).replace(TOKEN_IN_TEXT, `$1${REDACTED}`);
}

// ─── Helpers ────────────────────────────────────────────────────────────────────────────────

function uniqueResources(resources: { type: string; id: string }[] | undefined): { type: string; id: string }[] {
  const seen = new Set<string>();
  const unique: { type: string; id: string }[] = [];
  for (const resource of resources ?? []) {
    const id = typeof resource?.id === 'string' ? resource.id.trim() : '';
    if (id === '' || seen.has(id)) continue;
    seen.add(id);
    unique.push({ type: resource.type, id });
  }
  return unique;
}

/** Ranges longer than this are refused: one Query per day, and retention is a year by default. */
export const MAX_RANGE_DAYS = 800;

/** The UTC days (YYYY-MM-DD) from the day of `start` to the day of `end`, both included. */
function daysBetween(start: Date, end: Date): string[] {
  const days: string[] = [];
  const cursor = new Date(Date.UTC(start.getUTCFullYear(), start.getUTCMonth(), start.getUTCDate()));
  while (cursor <= end) {
    days.push(cursor.toISOString().slice(0, 10));
    cursor.setUTCDate(cursor.getUTCDate() + 1);
  }
  return days;
}

function safeJson(value: unknown): string {
  try {
    return JSON.stringify(value ?? null) ?? 'null';
  } catch (error) {
    return JSON.stringify({ unserialisable: describeError(error) });
  }
}

/** Keep the item under DynamoDB's 400 KB: cut outcome details, then findings, and say so. */
function fitItem(item: Record<string, unknown>): void {
  const fits = (): boolean => Buffer.byteLength(safeJson(item), 'utf8') <= MAX_ITEM_BYTES;
  if (fits()) return;
  item.itemTruncated = true;
  const outcomes = item.outcomes as StepOutcome[];
  item.outcomes = outcomes.map((outcome) => ({ ...outcome, detail: String(outcome.detail ?? '').slice(0, 500), produced: undefined }));
  if (fits()) return;
  const findings = item.findings as unknown[];
  item.findings = findings.slice(0, 50);
  item.steps = [];
  if (fits()) return;
  item.raw = String(item.raw).slice(0, 20_000);
  item.rawTruncated = true;
}
