/**
 * A real DynamoDB-compatible server for the state tests: dynalite, in memory, on 127.0.0.1
 * with an ephemeral port. Conditional writes, ADD, list_append, GSIs and pagination behave
 * as DynamoDB's do, which a mocked client could never show.
 *
 * ```ts
 * const db = useDynalite();            // starts in beforeAll, stops in afterAll
 * const tables = await db.createTables(); // fresh, uniquely named tables
 * new BlastRadiusLimiter({ client: db.client(), tableName: tables.state });
 * ```
 */
import type { AddressInfo } from 'node:net';
import type { Server } from 'node:http';
import { CreateTableCommand, DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { DynamoDBDocumentClient, GetCommand, ScanCommand } from '@aws-sdk/lib-dynamodb';
import { idempotencyTableDefinition, stateTableDefinition } from '../../functions/aws/state/tables';

type DynaliteFactory = (options: { createTableMs?: number; deleteTableMs?: number; updateTableMs?: number }) => Server;
// dynalite ships no type declarations.
// eslint-disable-next-line @typescript-eslint/no-require-imports
const dynalite = require('dynalite') as DynaliteFactory;

export interface TestTables {
  /** Idempotency table: partition key `id` (S); TTL `expiration` in the real template. */
  idempotency: string;
  /** State table: `pk`/`sk` (S), GSI `byTime` on `gsi1pk`/`gsi1sk`; TTL `expiresAt` in the real template. */
  state: string;
}

export interface DynaliteHandle {
  /** The server's endpoint, once started. */
  endpoint(): string;
  /** A DynamoDB client pointed at the server (test-only endpoint option), region us-east-1, dummy credentials. */
  client(): DynamoDBClient;
  /** Create a fresh pair of tables with the production shapes and unique names. */
  createTables(): Promise<TestTables>;
  /** Every item of a table, as plain objects: to assert exactly what was stored. */
  scan(tableName: string): Promise<Record<string, unknown>[]>;
  /** One item by its key, as a plain object, or undefined. */
  get(tableName: string, key: Record<string, string>): Promise<Record<string, unknown> | undefined>;
}

let tableCounter = 0;

/** Start dynalite before the file's tests and stop it after them. */
export function useDynalite(): DynaliteHandle {
  let server: Server | undefined;
  let url: string | undefined;
  const clients: DynamoDBClient[] = [];

  beforeAll(async () => {
    server = dynalite({ createTableMs: 0, deleteTableMs: 0, updateTableMs: 0 });
    await new Promise<void>((resolve, reject) => {
      server!.once('error', reject);
      server!.listen(0, '127.0.0.1', () => resolve());
    });
    const { port } = server.address() as AddressInfo;
    url = `http://127.0.0.1:${port}`;
  });

  afterAll(async () => {
    for (const client of clients) client.destroy();
    if (server) await new Promise<void>((resolve) => server!.close(() => resolve()));
  });

  const handle: DynaliteHandle = {
    endpoint() {
      if (!url) throw new Error('dynalite is not running: call useDynalite() at the top of the test file');
      return url;
    },
    client() {
      const client = new DynamoDBClient({
        endpoint: handle.endpoint(),
        region: 'us-east-1',
        credentials: { accessKeyId: 'test', secretAccessKey: 'test' },
        maxAttempts: 1,
      });
      clients.push(client);
      return client;
    },
    async createTables() {
      tableCounter += 1;
      const suffix = `${process.pid}-${tableCounter}`;
      const tables = { idempotency: `driftwarden-idempotency-${suffix}`, state: `driftwarden-state-${suffix}` };
      const client = handle.client();
      await client.send(new CreateTableCommand(idempotencyTableDefinition(tables.idempotency)));
      await client.send(new CreateTableCommand(stateTableDefinition(tables.state)));
      return tables;
    },
    async scan(tableName) {
      const documents = DynamoDBDocumentClient.from(handle.client());
      const items: Record<string, unknown>[] = [];
      let startKey: Record<string, unknown> | undefined;
      do {
        const page = await documents.send(new ScanCommand({ TableName: tableName, ExclusiveStartKey: startKey }));
        items.push(...(page.Items ?? []));
        startKey = page.LastEvaluatedKey;
      } while (startKey);
      return items;
    },
    async get(tableName, key) {
      const read = await DynamoDBDocumentClient.from(handle.client()).send(new GetCommand({ TableName: tableName, Key: key, ConsistentRead: true }));
      return read.Item;
    },
  };
  return handle;
}
