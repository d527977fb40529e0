/**
 * Property tests: normalize never throws, whatever it is given, and never turns input that
 * lacks what identifies a change into a ChangeEvent.
 */
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import fc from 'fast-check';
import { normalize, normalizeText } from '../../../functions/core/normalize';
import type { NormalizeResult } from '../../../functions/core/model';

const EVENTS = join(__dirname, '../../../events');
const samples: unknown[] = ['positive', 'negative'].flatMap((dir) =>
  readdirSync(join(EVENTS, dir))
    .filter((f) => f.endsWith('.json'))
    .map((f) => JSON.parse(readFileSync(join(EVENTS, dir, f), 'utf8')) as unknown),
);

/** The result is well formed, and not the catch-all that means an internal error. */
function assertWellFormed(result: NormalizeResult): void {
  if (result.rejected) {
    expect(typeof result.reason).toBe('string');
    expect(result.reason).not.toMatch(/^The input could not be read/);
    return;
  }
  const e = result.event;
  for (const value of [e.id, e.eventSource, e.eventName, e.accountId, e.region, e.actor.name]) {
    expect(typeof value).toBe('string');
    expect(value.length).toBeGreaterThan(0);
  }
  expect(Number.isFinite(Date.parse(e.time))).toBe(true);
  expect(typeof e.readOnly).toBe('boolean');
  expect(Array.isArray(e.resources)).toBe(true);
  expect(typeof e.change.kind).toBe('string');
}

type Path = (string | number)[];

/** Every path into a JSON value (objects and arrays), breadth-bounded. */
function pathsOf(value: unknown, prefix: Path = [], out: Path[] = []): Path[] {
  if (out.length > 2000) return out;
  if (Array.isArray(value)) value.forEach((v, i) => { out.push([...prefix, i]); pathsOf(v, [...prefix, i], out); });
  else if (typeof value === 'object' && value !== null) for (const [k, v] of Object.entries(value)) { out.push([...prefix, k]); pathsOf(v, [...prefix, k], out); }
  return out;
}

/** A copy of `value` with the node at `path` dropped (`replacement` undefined) or replaced. */
function mutate(value: unknown, path: Path, drop: boolean, replacement: unknown): unknown {
  const copy = structuredClone(value) as Record<string | number, unknown>;
  let node: Record<string | number, unknown> = copy;
  for (const key of path.slice(0, -1)) node = node[key] as Record<string | number, unknown>;
  const last = path[path.length - 1]!;
  if (drop) {
    if (Array.isArray(node)) node.splice(last as number, 1);
    else delete node[last];
  } else node[last] = replacement;
  return copy;
}

const mutatedSample = fc
  .tuple(fc.constantFrom(...samples), fc.array(fc.tuple(fc.nat(), fc.boolean(), fc.jsonValue({ maxDepth: 3 })), { minLength: 1, maxLength: 4 }))
  .map(([sample, mutations]) => {
    let value: unknown = sample;
    for (const [index, drop, replacement] of mutations) {
      const paths = pathsOf(value);
      if (paths.length === 0) break;
      value = mutate(value, paths[index % paths.length]!, drop, replacement);
    }
    return value;
  });

describe('normalize never throws', () => {
  it('on arbitrary JSON values', () => {
    fc.assert(
      fc.property(fc.jsonValue({ maxDepth: 6 }), (value) => {
        assertWellFormed(normalize(value));
      }),
      { numRuns: 1500 },
    );
  });

  it('on arbitrary objects shaped like EventBridge events and CloudTrail records', () => {
    const envelopeLike = fc.record(
      {
        'detail-type': fc.constantFrom('AWS API Call via CloudTrail', 'Config Configuration Item Change', 'Other'),
        account: fc.string(),
        region: fc.string(),
        detail: fc.jsonValue({ maxDepth: 4 }),
      },
      { requiredKeys: ['detail-type'] },
    );
    const recordLike = fc.record(
      {
        eventVersion: fc.constant('1.10'),
        eventID: fc.oneof(fc.string(), fc.jsonValue({ maxDepth: 1 })),
        eventName: fc.constantFrom('AuthorizeSecurityGroupIngress', 'ModifySecurityGroupRules', 'RunInstances', 'ModifyInstanceAttribute', 'SendCommand', 'StartSession', 'DeleteTags', 'UpdateFunctionCode20150331v2'),
        eventSource: fc.constantFrom('ec2.amazonaws.com', 'ssm.amazonaws.com', 'lambda.amazonaws.com'),
        eventTime: fc.oneof(fc.constant('2026-11-20T09:00:00Z'), fc.string()),
        awsRegion: fc.string(),
        recipientAccountId: fc.string(),
        userIdentity: fc.jsonValue({ maxDepth: 3 }),
        requestParameters: fc.jsonValue({ maxDepth: 5 }),
        responseElements: fc.jsonValue({ maxDepth: 5 }),
      },
      { requiredKeys: ['eventName', 'eventSource'] },
    );
    fc.assert(
      fc.property(fc.oneof(envelopeLike, recordLike), (value) => {
        assertWellFormed(normalize(value));
      }),
      { numRuns: 1500 },
    );
  });

  it('on real samples with random fields dropped or replaced', () => {
    fc.assert(
      fc.property(mutatedSample, (value) => {
        assertWellFormed(normalize(value));
      }),
      { numRuns: 1500 },
    );
  });

  it('on arbitrary text', () => {
    fc.assert(
      fc.property(fc.oneof(fc.string(), fc.json({ maxDepth: 5 })), (text) => {
        assertWellFormed(normalizeText(text));
      }),
      { numRuns: 1000 },
    );
  });
});

describe('normalize never makes a ChangeEvent of what is not one', () => {
  it('rejects every input that is not a JSON object', () => {
    const notObject = fc.oneof(fc.constant(null), fc.boolean(), fc.double(), fc.string(), fc.array(fc.jsonValue({ maxDepth: 3 })));
    fc.assert(
      fc.property(notObject, (value) => {
        expect(normalize(value)).toMatchObject({ rejected: true, code: 'not-an-object' });
      }),
      { numRuns: 1000 },
    );
  });

  it('rejects objects that are neither an event nor a record', () => {
    const unrelated = fc.dictionary(fc.string().filter((k) => !['detail-type', 'eventName', 'configurationItem', 'configurationItemSummary'].includes(k)), fc.jsonValue({ maxDepth: 3 }));
    fc.assert(
      fc.property(unrelated, (value) => {
        expect(normalize(value).rejected).toBe(true);
      }),
      { numRuns: 1000 },
    );
  });

  it('rejects a CloudTrail sample once any identifying field is removed', () => {
    const cloudTrailSamples = samples.filter((s) => (s as { 'detail-type': string })['detail-type'] === 'AWS API Call via CloudTrail');
    const required = ['eventID', 'eventName', 'eventSource', 'eventTime', 'userIdentity'];
    fc.assert(
      fc.property(fc.constantFrom(...cloudTrailSamples), fc.subarray(required, { minLength: 1 }), fc.boolean(), (sample, remove, bare) => {
        const copy = structuredClone(sample) as { detail: Record<string, unknown> };
        for (const name of remove) delete copy.detail[name];
        expect(normalize(bare ? copy.detail : copy).rejected).toBe(true);
      }),
      { numRuns: 1000 },
    );
  });
});
