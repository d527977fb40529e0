/**
 * The replacement ledger: one item per stack replacement driftwarden started, so that the
 * watcher acts only on updates it started (an unknown ClientRequestToken is ignored), each
 * state transition happens once however often EventBridge delivers the stack event, and the
 * sweeper finds the quarantines whose forensic hold has passed.
 *
 * Item (state table): pk `replacement#<clientRequestToken>`, sk `record`; `status`:
 *
 *   replacing ──UPDATE_COMPLETE, new instance healthy──► termination-due ──terminated──► terminated
 *       └──────rollback / failure / unhealthy replacement──► kept (a human decides)
 *
 * While termination is due, the sparse GSI keys gsi1pk `termination-due`, gsi1sk
 * `<terminateAfter>#<clientRequestToken>` list it, so the sweeper finds the due ones with one
 * Query. Every transition is a conditional update on the current status: of two deliveries
 * of the same stack event exactly one makes the transition, and only that one acts and alerts.
 * Items expire (`expiresAt`) 30 days after the hold ends.
 */
import type { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { GetCommand, PutCommand, UpdateCommand, type DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import type { Severity } from '../../core/model';
import {
  type Clock,
  ONE_DAY_SECONDS,
  StateInputError,
  StateUnavailableError,
  describeError,
  documentClient,
  epochSeconds,
  isConditionalCheckFailed,
  stateTableName,
  systemClock,
  itemsDueBy,
} from './shared';

/** What `ReplacementLedger` needs from IAM (Query on the table's byTime index). */
export const IAM_ACTIONS = ['dynamodb:PutItem', 'dynamodb:GetItem', 'dynamodb:UpdateItem', 'dynamodb:Query'] as const;

/** The GSI partition that lists replaced instances whose termination is due (or will be). */
export const TERMINATION_DUE_PARTITION = 'termination-due';
/** How long a ledger item outlives the end of its hold (the table's TTL). */
export const RETENTION_AFTER_HOLD_SECONDS = 30 * ONE_DAY_SECONDS;

export type ReplacementStatus = 'replacing' | 'termination-due' | 'terminated' | 'kept';

export interface ReplacementLedgerOptions {
  /** The state table. Default: env DRIFTWARDEN_STATE_TABLE. */
  tableName?: string;
  /** The GSI that `dueTerminations` queries. Default `byTime`. */
  indexName?: string;
  /** The DynamoDB client. Default: a new client configured from AWS_REGION / AWS_ENDPOINT_URL. */
  client?: DynamoDBClient;
  /** The clock. Default: the system clock. */
  now?: Clock;
}

/** What the responder records when its replace step (via 'stack') is done. */
export interface ReplacementInput {
  /** The ClientRequestToken of the UpdateStack call (`driftwarden-…`): what the stack event carries. */
  clientRequestToken: string;
  /** The value of the DriftwardenReplacementToken parameter, tagged on the new instance. */
  replacementToken: string;
  findingId: string;
  eventId: string;
  /** The quarantined (tainted) instance. */
  instanceId: string;
  stackName: string;
  stackId?: string;
  /** The instance's logical id in the stack (`aws:cloudformation:logical-id`), when known. */
  logicalId?: string;
  accountId: string;
  region: string;
  /** The forensic hold, in seconds, from the time the replacement is in service. */
  holdSeconds: number;
  /** Whether termination may lift protection someone else set (policy forensicHold.force). */
  force: boolean;
  /** ISO-8601: when the instance was quarantined. */
  quarantinedAt: string;
  /** For the follow-up alerts: the finding's rule, severity and one-line summary, and who made the change. */
  rule?: string;
  severity?: Severity;
  summary?: string;
  actorName?: string;
}

export interface ReplacementRecord extends ReplacementInput {
  status: ReplacementStatus;
  recordedAt: string;
  /** The instance CloudFormation launched in place of the tainted one (once known). */
  newInstanceId?: string;
  /** ISO-8601: the earliest time the tainted instance may be terminated. */
  terminateAfter?: string;
  terminatedAt?: string;
  /** Why the quarantine was kept (rollback, failure, unhealthy replacement). */
  keptReason?: string;
  /** The last termination attempt that did not succeed, for humans. */
  lastTerminationError?: string;
}

/** The answer of a transition: whether THIS caller made it, and the record as it is now. */
export interface Transition {
  transitioned: boolean;
  record?: ReplacementRecord;
}

const pkOf = (token: string) => ({ pk: `replacement#${token}`, sk: 'record' });

export class ReplacementLedger {
  readonly tableName: string;
  readonly indexName: string;
  private readonly documents: DynamoDBDocumentClient;
  private readonly now: Clock;

  constructor(options: ReplacementLedgerOptions = {}) {
    this.tableName = stateTableName(options.tableName, 'ReplacementLedger');
    this.indexName = options.indexName ?? 'byTime';
    this.documents = documentClient(options.client);
    this.now = options.now ?? systemClock;
  }

  /**
   * Record a replacement driftwarden started. Idempotent: a retry of the same replace step
   * (same ClientRequestToken) leaves the first record as it is and returns false.
   */
  async record(input: ReplacementInput): Promise<boolean> {
    validateInput(input);
    const now = this.now();
    const item = {
      ...pkOf(input.clientRequestToken),
      ...input,
      status: 'replacing' as ReplacementStatus,
      recordedAt: now.toISOString(),
      // Far enough for any stack update and any hold; the watcher's transitions reset it.
      expiresAt: epochSeconds(now) + input.holdSeconds + RETENTION_AFTER_HOLD_SECONDS,
    };
    try {
      await this.documents.send(new PutCommand({ TableName: this.tableName, Item: item, ConditionExpression: 'attribute_not_exists(pk)' }));
      return true;
    } catch (error) {
      if (isConditionalCheckFailed(error)) return false;
      throw this.unavailable(`could not record replacement ${input.clientRequestToken}`, error, input.clientRequestToken);
    }
  }

  /** The record of a ClientRequestToken, or undefined when driftwarden did not start it. */
  async find(clientRequestToken: string): Promise<ReplacementRecord | undefined> {
    const token = requireToken(clientRequestToken);
    try {
      const res = await this.documents.send(new GetCommand({ TableName: this.tableName, Key: pkOf(token), ConsistentRead: true }));
      return res.Item ? toRecord(res.Item) : undefined;
    } catch (error) {
      throw this.unavailable(`could not read replacement ${token}`, error, token);
    }
  }

  /**
   * replacing → termination-due: the replacement is in service and healthy; the tainted
   * instance may be terminated from `terminateAfter` on. Only the first caller transitions.
   */
  async markTerminationDue(clientRequestToken: string, details: { newInstanceId: string; terminateAfter: Date }): Promise<Transition> {
    const token = requireToken(clientRequestToken);
    const after = details.terminateAfter.toISOString();
    return this.transition(
      token,
      ['replacing'],
      'SET #status = :next, newInstanceId = :newInstance, terminateAfter = :after, gsi1pk = :due, gsi1sk = :dueSort, expiresAt = :expiresAt',
      {
        ':next': 'termination-due',
        ':newInstance': details.newInstanceId,
        ':after': after,
        ':due': TERMINATION_DUE_PARTITION,
        ':dueSort': `${after}#${token}`,
        ':expiresAt': epochSeconds(details.terminateAfter) + RETENTION_AFTER_HOLD_SECONDS,
      },
    );
  }

  /** replacing | termination-due → terminated: the tainted instance is gone. It leaves the due index. */
  async markTerminated(clientRequestToken: string): Promise<Transition> {
    const token = requireToken(clientRequestToken);
    return this.transition(token, ['replacing', 'termination-due'], 'SET #status = :next, terminatedAt = :at REMOVE gsi1pk, gsi1sk, lastTerminationError', {
      ':next': 'terminated',
      ':at': this.now().toISOString(),
    });
  }

  /** replacing → kept: the replacement failed or is not trustworthy; the quarantine stays for a human. */
  async markKept(clientRequestToken: string, reason: string): Promise<Transition> {
    const token = requireToken(clientRequestToken);
    return this.transition(token, ['replacing'], 'SET #status = :next, keptReason = :reason, keptAt = :at', {
      ':next': 'kept',
      ':reason': reason,
      ':at': this.now().toISOString(),
    });
  }

  /** Note a termination that did not succeed (protection set by someone else, AccessDenied): it stays due. */
  async noteTerminationError(clientRequestToken: string, detail: string): Promise<void> {
    const token = requireToken(clientRequestToken);
    await this.transition(token, ['termination-due'], 'SET lastTerminationError = :detail', { ':detail': detail }, false);
  }

  /**
   * Replaced instances whose hold ended at or before `now`, oldest first (the sparse
   * `termination-due` partition of the GSI, page by page). GSIs are eventually consistent:
   * one that just became due may show on the next sweep, which is harmless.
   */
  async dueTerminations(now: Date = this.now()): Promise<ReplacementRecord[]> {
    try {
      const items = await itemsDueBy(this.documents, this, TERMINATION_DUE_PARTITION, now);
      return items.map(toRecord).filter((record) => record.status === 'termination-due');
    } catch (error) {
      throw new StateUnavailableError(`could not list due terminations: ${describeError(error)}`, { table: this.tableName }, { cause: error });
    }
  }


  private async transition(
    token: string,
    from: ReplacementStatus[],
    update: string,
    values: Record<string, unknown>,
    returnRecord = true,
  ): Promise<Transition> {
    const allowed = Object.fromEntries(from.map((status, i) => [`:from${i}`, status]));
    try {
      const res = await this.documents.send(
        new UpdateCommand({
          TableName: this.tableName,
          Key: pkOf(token),
          UpdateExpression: update,
          ConditionExpression: `attribute_exists(pk) AND #status IN (${Object.keys(allowed).join(', ')})`,
          ExpressionAttributeNames: { '#status': 'status' },
          ExpressionAttributeValues: { ...values, ...allowed },
          ReturnValues: 'ALL_NEW',
        }),
      );
      return { transitioned: true, ...(res.Attributes ? { record: toRecord(res.Attributes) } : {}) };
    } catch (error) {
      if (isConditionalCheckFailed(error)) {
        const record = returnRecord ? await this.find(token) : undefined;
        return { transitioned: false, ...(record ? { record } : {}) };
      }
      throw this.unavailable(`could not update replacement ${token}`, error, token);
    }
  }

  private unavailable(what: string, error: unknown, token: string): StateUnavailableError {
    return new StateUnavailableError(`${what}: ${describeError(error)}`, { clientRequestToken: token, table: this.tableName }, { cause: error });
  }
}

function requireToken(token: string): string {
  const trimmed = typeof token === 'string' ? token.trim() : '';
  if (trimmed === '') throw new StateInputError('replacement ledger: empty ClientRequestToken', {});
  return trimmed;
}

function validateInput(input: ReplacementInput): void {
  requireToken(input?.clientRequestToken);
  for (const field of ['replacementToken', 'findingId', 'eventId', 'instanceId', 'stackName', 'accountId', 'region', 'quarantinedAt'] as const) {
    if (typeof input[field] !== 'string' || input[field].trim() === '') {
      throw new StateInputError(`replacement ledger: ${field} is required`, { clientRequestToken: input.clientRequestToken, field });
    }
  }
  if (!Number.isInteger(input.holdSeconds) || input.holdSeconds < 0) {
    throw new StateInputError(`replacement ledger: holdSeconds must be a non-negative integer, got ${String(input.holdSeconds)}`, {
      clientRequestToken: input.clientRequestToken,
    });
  }
}

function toRecord(item: Record<string, unknown>): ReplacementRecord {
  const { pk: _pk, sk: _sk, gsi1pk: _g1, gsi1sk: _g2, expiresAt: _e, keptAt: _k, ...rest } = item;
  return { ...(rest as unknown as ReplacementRecord), holdSeconds: Number(item.holdSeconds ?? 0), force: item.force === true };
}
