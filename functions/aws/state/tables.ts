/**
 * The shapes of driftwarden's two DynamoDB tables, as the state utilities read and write them.
 * template.yaml declares the same tables (test/template/tables.test.ts holds the two together);
 * tests, the integration harness and the benchmarks create their tables from here.
 *
 * - Idempotency (Powertools' DynamoDBPersistenceLayer defaults): partition key `id`, TTL `expiration`.
 * - State (claims, counters, replacements, audit): `pk`/`sk`, TTL `expiresAt`, and the `byTime`
 *   index on `gsi1pk`/`gsi1sk` that lists audit records, due terminations and owed summaries by time.
 */
import type { CreateTableCommandInput } from '@aws-sdk/client-dynamodb';

export const STATE_TIME_INDEX = 'byTime';

export function idempotencyTableDefinition(tableName: string): CreateTableCommandInput {
  return {
    TableName: tableName,
    BillingMode: 'PAY_PER_REQUEST',
    AttributeDefinitions: [{ AttributeName: 'id', AttributeType: 'S' }],
    KeySchema: [{ AttributeName: 'id', KeyType: 'HASH' }],
  };
}

export function stateTableDefinition(tableName: string): CreateTableCommandInput {
  return {
    TableName: tableName,
    BillingMode: 'PAY_PER_REQUEST',
    AttributeDefinitions: ['pk', 'sk', 'gsi1pk', 'gsi1sk'].map((AttributeName) => ({ AttributeName, AttributeType: 'S' as const })),
    KeySchema: [
      { AttributeName: 'pk', KeyType: 'HASH' },
      { AttributeName: 'sk', KeyType: 'RANGE' },
    ],
    GlobalSecondaryIndexes: [
      {
        IndexName: STATE_TIME_INDEX,
        KeySchema: [
          { AttributeName: 'gsi1pk', KeyType: 'HASH' },
          { AttributeName: 'gsi1sk', KeyType: 'RANGE' },
        ],
        Projection: { ProjectionType: 'ALL' },
      },
    ],
  };
}

/** The TTL attribute of each table (set in the template; DynamoDB Local emulators ignore it). */
export const TTL_ATTRIBUTES = { idempotency: 'expiration', state: 'expiresAt' } as const;
