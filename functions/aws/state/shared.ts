/**
 * What the state modules share: their typed errors, table-name defaults, the DynamoDB
 * document client, and the arithmetic of fixed time windows.
 */
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { DynamoDBDocumentClient, GetCommand, QueryCommand, type QueryCommandInput } from '@aws-sdk/lib-dynamodb';
import { DriftwardenError } from '../../core/errors';

/** A state module was built without what it needs (a table name, a sane limit): a deployment error. */
export class StateConfigError extends DriftwardenError {}

/** A caller handed a state module input it cannot use (an empty key, a negative count). Nothing was written. */
export class StateInputError extends DriftwardenError {}

/**
 * The state store could not be read or written. Callers fail closed on it: without the
 * state driftwarden cannot know it is not acting twice, or past its limit.
 */
export class StateUnavailableError extends DriftwardenError {}

/** A clock, injectable so that tests can move time; defaults to `Date.now`. */
export type Clock = () => Date;
export const systemClock: Clock = () => new Date();

/** The state table's name: the option, else env DRIFTWARDEN_STATE_TABLE. */
export function stateTableName(option: string | undefined, module: string): string {
  return requiredTableName(option, 'DRIFTWARDEN_STATE_TABLE', module);
}

/** The idempotency table's name: the option, else env DRIFTWARDEN_TABLE. */
export function idempotencyTableName(option: string | undefined, module: string): string {
  return requiredTableName(option, 'DRIFTWARDEN_TABLE', module);
}

function requiredTableName(option: string | undefined, envName: string, module: string): string {
  const name = (option ?? process.env[envName] ?? '').trim();
  if (name === '') {
    throw new StateConfigError(`${module}: no table name: pass tableName or set ${envName}`, { module, env: envName });
  }
  return name;
}

/**
 * A document client over the caller's DynamoDB client (or a default one that reads
 * AWS_REGION / AWS_ENDPOINT_URL the standard way). Undefined attributes are dropped rather
 * than rejected: optional fields of the contracts are routinely absent.
 */
export function documentClient(client: DynamoDBClient | undefined): DynamoDBDocumentClient {
  return DynamoDBDocumentClient.from(client ?? new DynamoDBClient({}), {
    marshallOptions: { removeUndefinedValues: true, convertClassInstanceToMap: true },
  });
}

/** True for DynamoDB's "your condition was false", which the state modules treat as an answer, not a failure. */
export function isConditionalCheckFailed(error: unknown): boolean {
  return error instanceof Error && error.name === 'ConditionalCheckFailedException';
}

/** The error's name and message, for a one-line reason. */
export function describeError(error: unknown): string {
  if (error instanceof Error) return `${error.name}: ${error.message}`;
  return String(error);
}

/** A fixed window: [start, end). Windows are aligned to the epoch so every Lambda agrees on them. */
export interface TimeWindow {
  start: Date;
  end: Date;
}

export function windowContaining(now: Date, windowMinutes: number): TimeWindow {
  const length = windowMinutes * 60_000;
  const startMs = Math.floor(now.getTime() / length) * length;
  return { start: new Date(startMs), end: new Date(startMs + length) };
}

export function epochSeconds(date: Date): number {
  return Math.floor(date.getTime() / 1000);
}

export const ONE_DAY_SECONDS = 86_400;

/** A positive integer option, or its default; anything else is a configuration error. */
export function positiveInteger(value: number | undefined, fallback: number, name: string, module: string): number {
  const chosen = value ?? fallback;
  if (!Number.isInteger(chosen) || chosen < 1) {
    throw new StateConfigError(`${module}: ${name} must be a positive integer, got ${String(value)}`, { module, option: name });
  }
  return chosen;
}

/** A strongly consistent read of one item of the state table (used when a condition failed, to say why). */
export async function readItem(
  documents: DynamoDBDocumentClient,
  tableName: string,
  pk: string,
  sk: string,
): Promise<Record<string, unknown> | undefined> {
  const read = await documents.send(new GetCommand({ TableName: tableName, Key: { pk, sk }, ConsistentRead: true }));
  return read.Item;
}

/** Every item a Query returns, page by page. Errors propagate (callers say what they were reading). */
export async function queryAllPages(documents: DynamoDBDocumentClient, input: QueryCommandInput): Promise<Record<string, unknown>[]> {
  const items: Record<string, unknown>[] = [];
  let startKey: Record<string, unknown> | undefined;
  do {
    const page = await documents.send(new QueryCommand({ ...input, ExclusiveStartKey: startKey }));
    items.push(...((page.Items ?? []) as Record<string, unknown>[]));
    startKey = page.LastEvaluatedKey;
  } while (startKey);
  return items;
}

/**
 * The items of one sparse partition of the `byTime` index whose time-sorted key (`<ISO time>#<id>`)
 * is due by `until`: owed alert summaries, due terminations. `#` sorts before every id character
 * and `~` after them, so every id due by then is included.
 */
export function itemsDueBy(
  documents: DynamoDBDocumentClient,
  table: { tableName: string; indexName: string },
  partition: string,
  until: Date,
): Promise<Record<string, unknown>[]> {
  return queryAllPages(documents, {
    TableName: table.tableName,
    IndexName: table.indexName,
    KeyConditionExpression: 'gsi1pk = :partition AND gsi1sk <= :until',
    ExpressionAttributeValues: { ':partition': partition, ':until': `${until.toISOString()}#~` },
  });
}
