/**
 * Where the last sweep stopped, so that the next one resumes there: one item in the state
 * table, pk `sweep#cursor`, sk `cursor`, holding the account, the region, the resource kind
 * and the NextToken of the page to read next. A cursor saved without an account (before
 * accounts were swept, or with the home account's id unknown) names the home account. No item (or `done`) means "start from the beginning".
 */
import type { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { GetCommand, PutCommand, type DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import { type Clock, StateUnavailableError, describeError, documentClient, stateTableName, systemClock } from '../aws/state/shared';

export const IAM_ACTIONS = ['dynamodb:GetItem', 'dynamodb:PutItem'] as const;

/** The resource kinds a sweep pages through in each region, in this order. */
export const SWEEP_KINDS = ['security-groups', 'instances'] as const;
export type SweepKind = (typeof SWEEP_KINDS)[number];

export interface SweepCursor {
  /** The account being swept; absent: the home account (its id not configured, or an older cursor). */
  accountId?: string;
  region: string;
  kind: SweepKind;
  /** The page to read next; absent: the first page of that kind. */
  nextToken?: string;
}

export interface SweepCursorStoreOptions {
  /** The state table. Default: env DRIFTWARDEN_STATE_TABLE. */
  tableName?: string;
  /** The DynamoDB client. Default: a new client configured from AWS_REGION / AWS_ENDPOINT_URL. */
  client?: DynamoDBClient;
  /** The clock (the time the cursor was saved, for humans). Default: the system clock. */
  now?: Clock;
}

const KEY = { pk: 'sweep#cursor', sk: 'cursor' };

export class SweepCursorStore {
  readonly tableName: string;
  private readonly documents: DynamoDBDocumentClient;
  private readonly now: Clock;

  constructor(options: SweepCursorStoreOptions = {}) {
    this.tableName = stateTableName(options.tableName, 'SweepCursorStore');
    this.documents = documentClient(options.client);
    this.now = options.now ?? systemClock;
  }

  /** The saved cursor, or undefined when the last sweep finished (or none ran). */
  async read(): Promise<SweepCursor | undefined> {
    try {
      const res = await this.documents.send(new GetCommand({ TableName: this.tableName, Key: KEY, ConsistentRead: true }));
      const item = res.Item;
      if (!item || item.done === true || typeof item.region !== 'string' || !(SWEEP_KINDS as readonly string[]).includes(String(item.kind))) return undefined;
      return {
        ...(typeof item.accountId === 'string' && item.accountId ? { accountId: item.accountId } : {}),
        region: item.region,
        kind: item.kind as SweepKind,
        ...(typeof item.nextToken === 'string' && item.nextToken ? { nextToken: item.nextToken } : {}),
      };
    } catch (error) {
      throw new StateUnavailableError(`could not read the sweep cursor: ${describeError(error)}`, { table: this.tableName }, { cause: error });
    }
  }

  /** Save where to resume; undefined records that the sweep finished. */
  async write(cursor: SweepCursor | undefined): Promise<void> {
    const savedAt = this.now().toISOString();
    const item = cursor ? { ...KEY, ...cursor, done: false, savedAt } : { ...KEY, done: true, savedAt };
    try {
      await this.documents.send(new PutCommand({ TableName: this.tableName, Item: item }));
    } catch (error) {
      throw new StateUnavailableError(`could not save the sweep cursor: ${describeError(error)}`, { table: this.tableName }, { cause: error });
    }
  }
}
