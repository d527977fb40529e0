/**
 * Fuzzing the whole `respond`: generated and mutated events (real samples with fields dropped,
 * types swapped, huge strings, arrays in place of objects, prototype-pollution keys), oversized
 * and deeply nested payloads. Whatever comes in: no unhandled exception, no mutating call, and
 * Object.prototype stays clean. The account answers "not found"/empty at once, so that runs
 * are cheap; state is the in-memory fake.
 */
import fc from 'fast-check';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { MUTATING_COMMANDS } from '../../functions/aws/iam';
import { respond } from '../../functions/responder/respond';
import { sentCalls } from '../aws/fixtures';
import { EVENTS, harness, positiveSamples, restoreMocks, type Harness } from '../responder/harness';

const MUTATING = new Set<string>(MUTATING_COMMANDS);
const samples = [...positiveSamples(), 'negative/security-group-change-by-pipeline-role.json', 'negative/failed-ssh-open-unauthorized.json'].map(
  (name) => JSON.parse(readFileSync(join(EVENTS, name), 'utf8')) as Record<string, unknown>,
);

let h: Harness;
beforeAll(() => {
  // Enforce mode over an account that knows nothing (every EC2 read: not found): whatever the
  // input claims, nothing mutating may be sent and nothing may throw.
  h = harness();
  for (const mock of Object.values(h.m)) mock.reset();
  const notFound = Object.assign(new Error('not found'), { name: 'InvalidInstanceID.NotFound' });
  h.m.ec2.rejects(notFound);
  h.m.ssm.resolves({ Parameters: [] });
  h.m.cloudTrail.resolves({ Events: [] });
  h.m.sns.resolves({ MessageId: 'fuzz' });
  h.m.cloudFormation.resolves({});
  h.m.autoScaling.resolves({});
  h.m.elbv2.resolves({});
});
afterAll(() => restoreMocks(h));

const everMutating: ReturnType<typeof sentCalls> = [];
const mutatingSent = () => sentCalls(h.m).filter((c) => MUTATING.has(c.command) && c.command !== 'PublishCommand');

/**
 * Runs one input; fails on a throw, on a polluted prototype, and on a mutating call that the
 * decision does not explain. A mutated sample can still be a valid event (a Config item carries
 * the group's tags itself, so it needs no read): then acting is right, but only for a
 * contain/replace decision and only on the resources the decision names. Junk (`mayAct` false)
 * must never lead to any mutating call.
 */
async function survives(input: unknown, mayAct = false): Promise<void> {
  // A fresh call history per run keeps each check O(calls of this run).
  for (const mock of Object.values(h.m)) mock.resetHistory();
  const summary = await respond(input, h.deps);
  expect(['processed', 'rejected', 'duplicate', 'duplicate-in-progress']).toContain(summary.status);
  const mutating = mutatingSent();
  if (!mayAct || !['contain', 'replace'].includes(summary.decision ?? '')) {
    everMutating.push(...mutating);
    expect(mutating).toEqual([]);
  } else {
    const named = new Set(summary.resources ?? []);
    for (const call of mutating) {
      const input = call.input as Record<string, unknown>;
      const target = String(input.GroupId ?? input.InstanceId ?? input.Name ?? input.ConfigurationRecorderName ?? '');
      expect({ command: call.command, target, named: named.has(target) }).toEqual({ command: call.command, target, named: true });
    }
  }
  expect(({} as Record<string, unknown>).polluted).toBeUndefined();
}

const POLLUTION_KEYS = ['__proto__', 'constructor', 'prototype', 'toString', 'hasOwnProperty'];
const weird = fc.oneof(
  fc.constant(null),
  fc.constant(undefined),
  fc.boolean(),
  fc.integer(),
  fc.double(),
  fc.string(),
  fc.constant(''),
  fc.constant('x'.repeat(100_000)),
  fc.constant([]),
  fc.array(fc.string(), { maxLength: 3 }),
  fc.constant({ polluted: true }),
  fc.constant(JSON.parse('{"__proto__":{"polluted":true}}') as unknown),
  fc.constant(JSON.parse('{"constructor":{"prototype":{"polluted":true}}}') as unknown),
  fc.dictionary(fc.constantFrom(...POLLUTION_KEYS, 'items', 'groupId', 'instanceId'), fc.jsonValue({ maxDepth: 2 }), { maxKeys: 3 }),
);

type Json = Record<string, unknown>;
/** Every path to a value in an object (bounded), to choose where to mutate. */
function paths(value: unknown, prefix: string[] = [], out: string[][] = [], depth = 0): string[][] {
  if (depth > 8 || value === null || typeof value !== 'object') return out;
  for (const key of Object.keys(value)) {
    out.push([...prefix, key]);
    paths((value as Json)[key], [...prefix, key], out, depth + 1);
  }
  return out;
}

type Mutation = { kind: 'drop' | 'set' | 'wrap-array' | 'pollute'; at: number; value: unknown; key: string };
const mutation: fc.Arbitrary<Mutation> = fc.record({
  kind: fc.constantFrom('drop', 'set', 'wrap-array', 'pollute') as fc.Arbitrary<Mutation['kind']>,
  at: fc.nat(),
  value: weird,
  key: fc.constantFrom(...POLLUTION_KEYS),
});

function mutate(event: Json, mutations: Mutation[]): unknown {
  // JSON round trip: what Lambda hands in is parsed JSON, where "__proto__" is an own key.
  const copy = JSON.parse(JSON.stringify(event)) as Json;
  for (const m of mutations) {
    const all = paths(copy);
    if (all.length === 0) break;
    const path = all[m.at % all.length]!;
    const parent = path.slice(0, -1).reduce<unknown>((o, k) => (o as Json)?.[k], copy) as Json | undefined;
    if (!parent || typeof parent !== 'object') continue;
    const key = path[path.length - 1]!;
    if (m.kind === 'drop') delete parent[key];
    else if (m.kind === 'set') parent[key] = m.value;
    else if (m.kind === 'wrap-array') parent[key] = [parent[key]];
    else Object.defineProperty(parent, m.key, { value: JSON.parse('{"polluted":true}'), enumerable: true, configurable: true, writable: true });
  }
  return copy;
}

test('mutated real samples never throw, and act only where their decision says (≥ 8,000 runs)', async () => {
  await fc.assert(
    fc.asyncProperty(fc.nat({ max: samples.length - 1 }), fc.array(mutation, { minLength: 1, maxLength: 4 }), async (i, mutations) => {
      await survives(mutate(samples[i]!, mutations), true);
    }),
    { numRuns: Number(process.env.FUZZ_A ?? 8_000) },
  );
}, 120_000);

test('arbitrary JSON and EventBridge-shaped junk never throw and never mutate (≥ 2,500 runs)', async () => {
  const envelope = fc.record(
    {
      version: weird,
      id: fc.oneof(fc.string(), weird),
      'detail-type': fc.oneof(fc.constantFrom('AWS API Call via CloudTrail', 'Config Configuration Item Change'), weird),
      source: fc.oneof(fc.constantFrom('aws.ec2', 'aws.config'), weird),
      account: fc.oneof(fc.constant('111122223333'), weird),
      time: fc.oneof(fc.constant('2026-11-20T09:00:00Z'), weird),
      region: fc.oneof(fc.constant('eu-west-1'), weird),
      detail: fc.oneof(fc.jsonValue({ maxDepth: 4 }), weird),
    },
    { requiredKeys: [] },
  );
  await fc.assert(
    fc.asyncProperty(fc.oneof(fc.jsonValue({ maxDepth: 5 }), envelope, weird), async (input) => {
      await survives(input);
    }),
    { numRuns: Number(process.env.FUZZ_B ?? 2_500) },
  );
}, 120_000);

describe('pathological payloads', () => {
  test('a 5 MB string in every string field of a real sample', async () => {
    const huge = 'A'.repeat(5 * 1024 * 1024);
    const replaceStrings = (v: unknown): unknown =>
      typeof v === 'string' ? huge : Array.isArray(v) ? v.map(replaceStrings) : v && typeof v === 'object' ? Object.fromEntries(Object.entries(v).map(([k, x]) => [k, replaceStrings(x)])) : v;
    for (const s of samples.slice(0, 3)) await survives(replaceStrings(s));
  });

  test('5 MB strings in the fields the rules read', async () => {
    const huge = 'sg-'.padEnd(5 * 1024 * 1024, '0');
    const s = JSON.parse(JSON.stringify(samples[0])) as Json & { detail: Json };
    s.detail.eventName = huge;
    s.detail.eventID = huge;
    (s.detail as Json).requestParameters = { groupId: huge, ipPermissions: { items: [{ ipProtocol: huge, fromPort: 22, toPort: 22, ipRanges: { items: [{ cidrIp: huge }] } }] } };
    await survives(s);
  });

  test('10,000 levels of nesting, in detail and in requestParameters', async () => {
    let deep: unknown = {};
    for (let i = 0; i < 10_000; i++) deep = i % 2 === 0 ? { a: deep } : { items: [deep] };
    const s = JSON.parse(JSON.stringify(samples[0])) as Json & { detail: Json };
    await survives({ ...s, detail: deep });
    await survives({ ...s, detail: { ...s.detail, requestParameters: deep, userIdentity: deep } });
    let deepArray: unknown = [];
    for (let i = 0; i < 10_000; i++) deepArray = [deepArray];
    await survives(deepArray);
  });

  test('prototype-pollution keys at the top and in detail leave Object.prototype untouched', async () => {
    const s = samples[0]!;
    await survives(JSON.parse(`{"__proto__":{"polluted":true},"constructor":{"prototype":{"polluted":true}},"detail-type":"AWS API Call via CloudTrail","detail":${JSON.stringify((s as Json).detail)}}`));
    await survives(JSON.parse(`{"version":"0","detail-type":"AWS API Call via CloudTrail","source":"aws.ec2","account":"111122223333","region":"eu-west-1","time":"2026-11-20T09:00:00Z","detail":{"__proto__":{"eventName":"AuthorizeSecurityGroupIngress"},"constructor":{"prototype":{"polluted":true}}}}`));
  });

  test('no junk input ever led to a mutating call, across the whole file', () => {
    expect(everMutating).toEqual([]);
  });
});
