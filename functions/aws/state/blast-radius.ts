/**
 * The blast-radius limit: at most `maxActions` destructive actions (isolate, replace,
 * terminate) per account per window. A bad policy, a bug or an attacker who makes driftwarden
 * react must not be able to take a whole fleet down; past the limit driftwarden observes, and
 * says so ONCE per window with a critical alert rather than once per finding.
 *
 * State: one item per account and window in the state table, pk `limit#<account>`, sk the
 * window start (ISO-8601), `used` the actions granted, `alerted` set by the first denial.
 */
import type { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { UpdateCommand, type DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import {
  type Clock,
  ONE_DAY_SECONDS,
  StateInputError,
  describeError,
  documentClient,
  epochSeconds,
  isConditionalCheckFailed,
  positiveInteger,
  readItem,
  stateTableName,
  systemClock,
  windowContaining,
} from './shared';

/** What `BlastRadiusLimiter` needs from IAM. */
export const IAM_ACTIONS = ['dynamodb:UpdateItem', 'dynamodb:GetItem'] as const;

export interface BlastRadiusLimiterOptions {
  /** The state table. Default: env DRIFTWARDEN_STATE_TABLE. */
  tableName?: string;
  /**
   * Destructive actions allowed per account per window; 0 means none (always observe).
   * Default 10 (the policy's `limits.maxDestructiveActions`).
   */
  maxActions?: number;
  /** The window, in minutes; windows are aligned to the epoch. Default 60 (the policy's `limits.windowMinutes`). */
  windowMinutes?: number;
  /** The DynamoDB client. Default: a new client configured from AWS_REGION / AWS_ENDPOINT_URL. */
  client?: DynamoDBClient;
  /** The clock. Default: the system clock. */
  now?: Clock;
}

export interface BlastRadiusDecision {
  /** True when the actions may run; false means observe. */
  allowed: boolean;
  /** Actions granted in this window, including these when allowed. */
  used: number;
  limit: number;
  /** True for exactly one denial per account and window: send the one critical "limit reached" alert. */
  firstDenial: boolean;
  /** ISO start of the window the decision counts against. */
  windowStart: string;
  /**
   * Set when the limit could not be read or written: the decision is then a denial (fail closed:
   * an unknown count may already be past the limit), and this says why.
   */
  unavailable?: string;
}

export class BlastRadiusLimiter {
  readonly tableName: string;
  readonly maxActions: number;
  readonly windowMinutes: number;
  private readonly documents: DynamoDBDocumentClient;
  private readonly now: Clock;

  constructor(options: BlastRadiusLimiterOptions = {}) {
    this.tableName = stateTableName(options.tableName, 'BlastRadiusLimiter');
    this.maxActions = options.maxActions === 0 ? 0 : positiveInteger(options.maxActions, 10, 'maxActions', 'BlastRadiusLimiter');
    this.windowMinutes = positiveInteger(options.windowMinutes, 60, 'windowMinutes', 'BlastRadiusLimiter');
    this.documents = documentClient(options.client);
    this.now = options.now ?? systemClock;
  }

  /**
   * Take `count` actions from this window's allowance, all or nothing, in ONE conditional
   * UpdateItem: DynamoDB applies the ADD only when the total stays within the limit, so twenty
   * concurrent responders can never together exceed it.
   */
  async tryAcquire(accountId: string, count: number, options: { speculative?: boolean } = {}): Promise<BlastRadiusDecision> {
    const account = typeof accountId === 'string' ? accountId.trim() : '';
    if (account === '') throw new StateInputError('blast radius: no account id', {});
    if (!Number.isInteger(count) || count < 1) {
      throw new StateInputError(`blast radius: action count must be a positive integer, got ${String(count)}`, { accountId: account });
    }
    const window = windowContaining(this.now(), this.windowMinutes);
    const key = { pk: `limit#${account}`, sk: window.start.toISOString() };
    const expiresAt = epochSeconds(window.end) + ONE_DAY_SECONDS;
    const base = { limit: this.maxActions, windowStart: key.sk };

    if (count <= this.maxActions) {
      try {
        const updated = await this.documents.send(
          new UpdateCommand({
            TableName: this.tableName,
            Key: key,
            UpdateExpression: 'ADD used :count SET expiresAt = :expiresAt, accountId = :account, windowEnd = :windowEnd',
            // DynamoDB conditions cannot do arithmetic, so `used <= max - count` is computed here.
            ConditionExpression: 'attribute_not_exists(used) OR used <= :threshold',
            ExpressionAttributeValues: {
              ':count': count,
              ':threshold': this.maxActions - count,
              ':expiresAt': expiresAt,
              ':account': account,
              ':windowEnd': window.end.toISOString(),
            },
            ReturnValues: 'UPDATED_NEW',
          }),
        );
        return { ...base, allowed: true, used: Number(updated.Attributes?.used ?? count), firstDenial: false };
      } catch (error) {
        if (!isConditionalCheckFailed(error)) {
          return { ...base, allowed: false, used: Number.NaN, firstDenial: false, unavailable: `blast-radius limit unreadable: ${describeError(error)}` };
        }
      }
    }
    // A speculative request (taken before the plan is known, possibly larger than the plan
    // needs) is refused quietly: only a refusal of what a plan really needs is the window's
    // denial, the one that owes the CRITICAL alert.
    if (options.speculative) return { ...base, allowed: false, used: Number.NaN, firstDenial: false };
    return this.deny(key, expiresAt, window.end.toISOString(), base);
  }

  /**
   * Give back actions taken speculatively and not used (the responder takes its allowance
   * together with its reads, before the plan is known, so that containment waits for no extra
   * round trip; a plan that turns out to need fewer actions returns the rest). Best-effort:
   * a failed release only makes the limit stricter, never looser.
   */
  async release(accountId: string, count: number, windowStart: string): Promise<boolean> {
    if (!Number.isInteger(count) || count < 1) return true;
    try {
      await this.documents.send(
        new UpdateCommand({
          TableName: this.tableName,
          Key: { pk: `limit#${accountId.trim()}`, sk: windowStart },
          UpdateExpression: 'ADD used :negative',
          ConditionExpression: 'used >= :count',
          ExpressionAttributeValues: { ':negative': -count, ':count': count },
        }),
      );
      return true;
    } catch {
      return false;
    }
  }

  /**
   * A denial. The first denial of the window flips `alerted` with a second conditional update,
   * so exactly one caller, among any number of concurrent ones, learns it was first.
   */
  private async deny(
    key: { pk: string; sk: string },
    expiresAt: number,
    windowEnd: string,
    base: { limit: number; windowStart: string },
  ): Promise<BlastRadiusDecision> {
    let firstDenial = false;
    let used: number | undefined;
    try {
      const flagged = await this.documents.send(
        new UpdateCommand({
          TableName: this.tableName,
          Key: key,
          UpdateExpression: 'SET alerted = :true, firstDeniedAt = :at, expiresAt = :expiresAt, windowEnd = :windowEnd',
          ConditionExpression: 'attribute_not_exists(alerted)',
          ExpressionAttributeValues: { ':true': true, ':at': this.now().toISOString(), ':expiresAt': expiresAt, ':windowEnd': windowEnd },
          ReturnValues: 'ALL_NEW',
        }),
      );
      firstDenial = true;
      used = Number(flagged.Attributes?.used ?? 0);
    } catch (error) {
      if (!isConditionalCheckFailed(error)) {
        return { ...base, allowed: false, used: Number.NaN, firstDenial: false, unavailable: `blast-radius alert flag unwritable: ${describeError(error)}` };
      }
    }
    if (used === undefined) {
      try {
        const item = await readItem(this.documents, this.tableName, key.pk, key.sk);
        used = Number(item?.used ?? 0);
      } catch {
        // The denial stands without the count; the count is for the alert text only.
        used = Number.NaN;
      }
    }
    return { ...base, allowed: false, used, firstDenial };
  }
}
