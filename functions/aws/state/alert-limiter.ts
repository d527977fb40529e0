/**
 * The alert-storm limiter. A storm of findings (a script that opens 500 rules, a bad
 * deployment) must not become 500 pages: the on-call would mute the topic and driftwarden
 * would be blinded when it matters. Up to `maxAlerts` individual alerts per account and window
 * go out; past that each alert is folded into ONE summary per window, which the sweeper sends
 * when the window has ended.
 *
 * State: one item per account and window in the state table, pk `alerts#<account>`, sk the
 * window start (ISO-8601): `attempts` (alerts asked for), `suppressed` (those folded),
 * `summaries` (their one-line summaries, capped), and, while a summary is owed, the sparse
 * GSI keys gsi1pk `alerts-pending`, gsi1sk `<window end>#<account>` so the sweeper finds owed
 * summaries with one Query instead of a Scan.
 */
import type { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { UpdateCommand, type DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import {
  type Clock,
  ONE_DAY_SECONDS,
  StateInputError,
  StateUnavailableError,
  describeError,
  documentClient,
  epochSeconds,
  isConditionalCheckFailed,
  positiveInteger,
  stateTableName,
  systemClock,
  windowContaining,
  itemsDueBy,
} from './shared';

/** What `AlertLimiter` needs from IAM (Query on the table's byTime index). */
export const IAM_ACTIONS = ['dynamodb:UpdateItem', 'dynamodb:Query'] as const;

/** The GSI partition that lists windows whose summary is still owed. */
export const PENDING_SUMMARY_PARTITION = 'alerts-pending';
/** Summaries kept per window: enough to read, far below DynamoDB's 400 KB item limit. */
export const DEFAULT_MAX_SUMMARIES = 200;
/** One summary line is cut to this many characters, so that 200 of them always fit in one item. */
export const MAX_SUMMARY_LINE = 300;

export interface AlertLimiterOptions {
  /** The state table. Default: env DRIFTWARDEN_STATE_TABLE. */
  tableName?: string;
  /** Individual alerts per account per window. Default 20 (the policy's `limits.maxAlertsPerWindow`). */
  maxAlerts?: number;
  /** The window, in minutes; windows are aligned to the epoch. Default 5 (the policy's `limits.alertWindowMinutes`). */
  windowMinutes?: number;
  /** Summary lines kept per window; the count goes on past it. Default 200. */
  maxSummaries?: number;
  /** The GSI that `pendingSummaries` queries. Default `byTime`. */
  indexName?: string;
  /** The DynamoDB client. Default: a new client configured from AWS_REGION / AWS_ENDPOINT_URL. */
  client?: DynamoDBClient;
  /** The clock. Default: the system clock. */
  now?: Clock;
}

export interface AdmitDecision {
  /** True: send this alert now. False: it was folded into the window's summary. */
  send: boolean;
  /** Alerts suppressed in this window so far, this one included when it was suppressed. */
  suppressedSoFar: number;
  /** ISO start of the window. */
  windowStart: string;
  /**
   * Set when the limiter's state could not be used. The alert is then SENT: losing an alert is
   * worse than a louder storm (never blinded).
   */
  unavailable?: string;
}

/** A window that ended with suppressed alerts whose summary has not been sent. */
export interface PendingSummary {
  accountId: string;
  windowStart: string;
  windowEnd: string;
  /** Individual alerts that were sent in the window. */
  sent: number;
  /** Alerts folded into this summary. */
  suppressed: number;
  /** Their one-line summaries, oldest first, at most `maxSummaries`. */
  summaries: string[];
  /** True when `suppressed` exceeds the lines kept. */
  truncated: boolean;
}

export class AlertLimiter {
  readonly tableName: string;
  readonly maxAlerts: number;
  readonly windowMinutes: number;
  readonly maxSummaries: number;
  readonly indexName: string;
  private readonly documents: DynamoDBDocumentClient;
  private readonly now: Clock;

  constructor(options: AlertLimiterOptions = {}) {
    this.tableName = stateTableName(options.tableName, 'AlertLimiter');
    this.maxAlerts = positiveInteger(options.maxAlerts, 20, 'maxAlerts', 'AlertLimiter');
    this.windowMinutes = positiveInteger(options.windowMinutes, 5, 'windowMinutes', 'AlertLimiter');
    this.maxSummaries = positiveInteger(options.maxSummaries, DEFAULT_MAX_SUMMARIES, 'maxSummaries', 'AlertLimiter');
    this.indexName = options.indexName ?? 'byTime';
    this.documents = documentClient(options.client);
    this.now = options.now ?? systemClock;
  }

  /**
   * Decide whether one alert goes out. One UpdateItem counts it (atomic ADD, so concurrent callers
   * never send more than `maxAlerts` between them); past the limit a second one counts it as
   * suppressed, appends its summary line while fewer than `maxSummaries` are kept, and puts the
   * window in the pending index.
   */
  async admit(accountId: string, summaryLine: string): Promise<AdmitDecision> {
    const account = typeof accountId === 'string' ? accountId.trim() : '';
    if (account === '') throw new StateInputError('alert limiter: no account id', {});
    const window = windowContaining(this.now(), this.windowMinutes);
    const key = { pk: `alerts#${account}`, sk: window.start.toISOString() };
    const expiresAt = epochSeconds(window.end) + ONE_DAY_SECONDS;
    const common = {
      ':expiresAt': expiresAt,
      ':account': account,
      ':windowEnd': window.end.toISOString(),
    };

    let attempt: number;
    try {
      const counted = await this.send(
        'ADD attempts :one SET expiresAt = :expiresAt, accountId = :account, windowEnd = :windowEnd',
        { ...common, ':one': 1 },
        key,
      );
      attempt = Number(counted?.attempts);
    } catch (error) {
      return { send: true, suppressedSoFar: 0, windowStart: key.sk, unavailable: `alert limiter unusable: ${describeError(error)}` };
    }
    // ADD is atomic: each concurrent caller gets its own attempt number, so exactly maxAlerts of them send.
    if (attempt <= this.maxAlerts) return { send: true, suppressedSoFar: 0, windowStart: key.sk };

    // The (attempt - maxAlerts)th suppressed alert: only the first maxSummaries keep their line.
    const keepLine = attempt - this.maxAlerts <= this.maxSummaries;
    const pending = {
      ...common,
      ':one': 1,
      ':pending': PENDING_SUMMARY_PARTITION,
      ':pendingSort': `${window.end.toISOString()}#${account}`,
      ...(keepLine ? { ':empty': [], ':line': [oneLine(summaryLine)] } : {}),
    };
    try {
      const folded = await this.send(
        `ADD suppressed :one SET gsi1pk = :pending, gsi1sk = :pendingSort, expiresAt = :expiresAt, accountId = :account, windowEnd = :windowEnd` +
          (keepLine ? ', summaries = list_append(if_not_exists(summaries, :empty), :line)' : ''),
        pending,
        key,
      );
      return { send: false, suppressedSoFar: Number(folded?.suppressed ?? 1), windowStart: key.sk };
    } catch (error) {
      return { send: true, suppressedSoFar: 0, windowStart: key.sk, unavailable: `alert limiter unusable: ${describeError(error)}` };
    }
  }

  /**
   * Windows that ended at or before `now` with suppressed alerts and no summary sent yet, for
   * every account, oldest first. Reads the sparse `alerts-pending` partition of the GSI, page by
   * page. GSIs are eventually consistent: a window that ended a second ago may appear on the next
   * sweep instead of this one, which is harmless.
   */
  async pendingSummaries(now: Date = this.now()): Promise<PendingSummary[]> {
    let items: Record<string, unknown>[];
    try {
      items = await itemsDueBy(this.documents, this, PENDING_SUMMARY_PARTITION, now);
    } catch (error) {
      throw new StateUnavailableError(`could not list pending alert summaries: ${describeError(error)}`, { table: this.tableName }, { cause: error });
    }
    return items.map((item) => {
      const suppressed = Number(item.suppressed ?? 0);
      const attempts = Number(item.attempts ?? 0);
      const summaries = Array.isArray(item.summaries) ? item.summaries.map(String) : [];
      return {
        accountId: String(item.accountId),
        windowStart: String(item.sk),
        windowEnd: String(item.windowEnd),
        sent: Math.max(0, attempts - suppressed),
        suppressed,
        summaries,
        truncated: suppressed > summaries.length,
      };
    });
  }


  /**
   * Record that the summary of a window was sent: it leaves the pending index. The update is
   * conditional on the count the summary covered; when more alerts were suppressed meanwhile
   * (a late writer with a skewed clock), the window stays pending and this returns false, so the
   * next sweep sends the rest rather than losing it.
   */
  async markSummarised(summary: Pick<PendingSummary, 'accountId' | 'windowStart' | 'suppressed'>): Promise<boolean> {
    try {
      await this.documents.send(
        new UpdateCommand({
          TableName: this.tableName,
          Key: { pk: `alerts#${summary.accountId}`, sk: summary.windowStart },
          UpdateExpression: 'SET summarisedAt = :at, summarised = :count REMOVE gsi1pk, gsi1sk',
          ConditionExpression: 'suppressed = :count',
          ExpressionAttributeValues: { ':at': this.now().toISOString(), ':count': summary.suppressed },
        }),
      );
      return true;
    } catch (error) {
      if (isConditionalCheckFailed(error)) return false;
      throw new StateUnavailableError(
        `could not mark the alert summary of ${summary.accountId} ${summary.windowStart} as sent: ${describeError(error)}`,
        { accountId: summary.accountId, windowStart: summary.windowStart },
        { cause: error },
      );
    }
  }

  private async send(
    updateExpression: string,
    values: Record<string, unknown>,
    key: { pk: string; sk: string },
  ): Promise<Record<string, unknown> | undefined> {
    const result = await this.documents.send(
      new UpdateCommand({
        TableName: this.tableName,
        Key: key,
        UpdateExpression: updateExpression,
        ExpressionAttributeValues: values,
        ReturnValues: 'UPDATED_NEW',
      }),
    );
    return result.Attributes;
  }
}

/** One line, bounded: summaries are shown one per line in the periodic summary. */
function oneLine(text: string): string {
  const flat = String(text ?? '').replace(/\s+/g, ' ').trim() || '(no summary)';
  return flat.length > MAX_SUMMARY_LINE ? `${flat.slice(0, MAX_SUMMARY_LINE - 1)}…` : flat;
}
