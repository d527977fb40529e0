/**
 * The replay's fast paths give exactly what the plain paths give: the JSON line written by
 * hand, the evaluation without a promise for events that need no context, the faster depth
 * scan and credential redaction, and the summary counts merged file by file.
 */
import { mkdtempSync, readdirSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { gunzipSync } from 'node:zlib';
import fc from 'fast-check';
import { generateArchive } from '../../bench/lib/generate';
import { countEvaluation, emptyTally, jsonLine, jsonLineText, mergeTally, quote } from '../../functions/cli/render';
import type { ReplayTally } from '../../functions/cli/render';
import type { ContextReader } from '../../functions/core/context';
import { normalize } from '../../functions/core/normalize';
import { field, jsonDepthExceeds, redactCredentials, REDACTED } from '../../functions/core/normalize/guards';
import type { Evaluation } from '../../functions/core/pipeline';
import { evaluateInFull } from '../helpers/pipeline';
import { evaluateInput, evaluateInputNow } from '../../functions/core/pipeline';
import { loadPolicyFile } from '../../functions/core/policy/load';
import type { Policy } from '../../functions/core/policy/schema';
import { loadSnapshotFile, SnapshotContextReader } from '../../functions/core/snapshot';

const REPO = join(__dirname, '..', '..');
const NOW = '2026-11-20T09:00:00Z';

/** Every sample in events/ (positive, negative, invalid), as parsed JSON (or the raw text when it is not JSON). */
function samples(): { name: string; input: unknown }[] {
  const out: { name: string; input: unknown }[] = [];
  for (const folder of ['positive', 'negative', 'invalid']) {
    for (const name of readdirSync(join(REPO, 'events', folder)).sort()) {
      const text = readFileSync(join(REPO, 'events', folder, name), 'utf8');
      let input: unknown;
      try {
        input = JSON.parse(text);
      } catch {
        input = text;
      }
      if (Array.isArray(input)) input.forEach((item, i) => out.push({ name: `${folder}/${name}#${i}`, input: item }));
      else out.push({ name: `${folder}/${name}`, input });
    }
  }
  return out;
}

/** A small generated CloudTrail archive (the benchmark's generator): mostly read-only noise, a third writes. */
function generatedRecords(): { name: string; input: unknown }[] {
  const root = mkdtempSync(join(tmpdir(), 'driftwarden-fast-paths-'));
  const summary = generateArchive({ root, files: 3, records: 900, writeFraction: 0.3, seed: 7 });
  return summary.files.flatMap((file) =>
    (JSON.parse(gunzipSync(readFileSync(file)).toString('utf8')) as { Records: unknown[] }).Records.map((input, i) => ({ name: `${file}#${i}`, input })),
  );
}

/** A reader that counts its calls, answering from the sample snapshot. */
function countingReader(): { reader: ContextReader; calls: () => number } {
  const inner = new SnapshotContextReader(loadSnapshotFile(join(REPO, 'events/account-snapshot.json')));
  let calls = 0;
  const count =
    <A extends unknown[], R>(f: (...args: A) => R) =>
    (...args: A): R => {
      calls++;
      return f(...args);
    };
  return {
    reader: {
      instance: count((id: string) => inner.instance(id)),
      securityGroup: count((id: string) => inner.securityGroup(id)),
      image: count((id: string) => inner.image(id)),
      approvedAmiIds: count((path: string) => inner.approvedAmiIds(path)),
      tagWriter: count((id: string, tag: string) => inner.tagWriter(id, tag)),
    },
    calls: () => calls,
  };
}

let policy: Policy;
let inputs: { name: string; input: unknown }[];

beforeAll(() => {
  policy = loadPolicyFile(join(REPO, 'events/policy.yaml'));
  inputs = [...samples(), ...generatedRecords()];
});

describe('evaluating without context for events that need none', () => {
  it('decides every sample and every generated record exactly as gathering context first does', async () => {
    const { reader } = countingReader();
    let synchronous = 0;
    for (const { name, input } of inputs) {
      const fast = evaluateInputNow(input, { policy, reader, now: NOW, dryRun: true });
      if (!(fast instanceof Promise)) synchronous++;
      const expected = await evaluateInFull(input, policy, reader, NOW);
      expect({ name, evaluation: fast instanceof Promise ? await fast : fast }).toEqual({ name, evaluation: expected });
    }
    // The generated noise is mostly read-only: most records must take the path without a promise.
    expect(synchronous).toBeGreaterThan(inputs.length / 2);
  });

  it('never asks the reader anything for a read-only call, and still asks for a write', async () => {
    const { reader, calls } = countingReader();
    const describe = inputs.find(({ name }) => name === 'negative/read-only-describe-security-groups.json')!.input;
    expect(evaluateInputNow(describe, { policy, reader, now: NOW, dryRun: true })).not.toBeInstanceOf(Promise);
    expect(calls()).toBe(0);
    const write = inputs.find(({ name }) => name === 'positive/admin-port-ssh-open-to-world.json')!.input;
    const evaluation = await evaluateInputNow(write, { policy, reader, now: NOW, dryRun: true });
    expect(calls()).toBeGreaterThan(0);
    expect('plan' in evaluation && evaluation.plan.decision).toBe('contain');
  });

  it('gives the same evaluation as evaluateInput', async () => {
    const { reader } = countingReader();
    for (const { input } of inputs.slice(0, 200)) {
      expect(await evaluateInputNow(input, { policy, reader, now: NOW, dryRun: true })).toEqual(await evaluateInput(input, { policy, reader, now: NOW, dryRun: true }));
    }
  });
});

describe('the JSON line written by hand', () => {
  it('is byte for byte JSON.stringify(jsonLine(…)) for every sample and generated record, with and without outcomes', async () => {
    const { reader } = countingReader();
    for (const { name, input } of inputs) {
      const evaluation = await evaluateInput(input, { policy, reader, now: NOW, dryRun: true });
      expect(jsonLineText(name, evaluation)).toBe(JSON.stringify(jsonLine(name, evaluation)));
      const outcomes = 'plan' in evaluation ? evaluation.plan.steps.map((s) => ({ action: s.action, resource: s.resource, status: 'done' as const, detail: `did "${s.action}"\n` })) : undefined;
      expect(jsonLineText(name, evaluation, outcomes)).toBe(JSON.stringify(jsonLine(name, evaluation, outcomes)));
    }
  });

  it('escapes sources, names and actors exactly as JSON.stringify does', async () => {
    const { reader } = countingReader();
    const base = await evaluateInput(inputs.find(({ name }) => name === 'positive/admin-port-ssh-open-to-world.json')!.input, { policy, reader, now: NOW, dryRun: true });
    if (!('plan' in base)) throw new Error('the sample should be an event');
    fc.assert(
      fc.property(fc.string({ unit: 'binary' }), fc.string({ unit: 'grapheme' }), fc.option(fc.string({ unit: 'binary' }), { nil: undefined }), (source, actorName, arn) => {
        const evaluation: Evaluation = { ...base, event: { ...base.event, eventName: actorName, actor: { ...base.event.actor, name: actorName, arn } } };
        expect(jsonLineText(source, evaluation)).toBe(JSON.stringify(jsonLine(source, evaluation)));
        expect(quote(source)).toBe(JSON.stringify(source));
      }),
      { numRuns: 300 },
    );
  });

  it('falls back to JSON.stringify for an event whose fields are not of the modelled types', async () => {
    const { reader } = countingReader();
    const base = await evaluateInput(inputs.find(({ name }) => name === 'positive/admin-port-ssh-open-to-world.json')!.input, { policy, reader, now: NOW, dryRun: true });
    if (!('plan' in base)) throw new Error('the sample should be an event');
    const odd = { ...base, event: { ...base.event, region: undefined as unknown as string, accountId: 42 as unknown as string } };
    expect(jsonLineText('x', odd)).toBe(JSON.stringify(jsonLine('x', odd)));
    expect(JSON.parse(jsonLineText('x', odd))).not.toHaveProperty('region');
  });
});

describe('summary counts merged file by file', () => {
  it('equal the counts of one pass over every input, with the earliest example of each rejection', async () => {
    const { reader } = countingReader();
    const evaluations: { source: string; evaluation: Evaluation }[] = [];
    for (const { name, input } of inputs) evaluations.push({ source: name, evaluation: await evaluateInput(input, { policy, reader, now: NOW, dryRun: true }) });
    const whole = emptyTally();
    for (const { source, evaluation } of evaluations) countEvaluation(whole, source, evaluation);

    const merged = emptyTally();
    for (let start = 0; start < evaluations.length; start += 7) {
      const part: ReplayTally = emptyTally();
      for (const { source, evaluation } of evaluations.slice(start, start + 7)) countEvaluation(part, source, evaluation);
      mergeTally(merged, part);
    }
    expect(merged).toEqual(whole);
    expect(whole.rejected.length).toBeGreaterThan(1);
    expect(whole.records).toBe(inputs.length);
  });
});

/** The depth scan as it was: one character at a time. */
function depthExceedsByCharacter(text: string, limit: number): boolean {
  let depth = 0;
  let inString = false;
  for (let i = 0; i < text.length; i += 1) {
    const c = text.charCodeAt(i);
    if (inString) {
      if (c === 0x5c) i += 1;
      else if (c === 0x22) inString = false;
    } else if (c === 0x22) {
      inString = true;
    } else if (c === 0x7b || c === 0x5b) {
      depth += 1;
      if (depth > limit) return true;
    } else if (c === 0x7d || c === 0x5d) {
      depth -= 1;
    }
  }
  return false;
}

describe('the depth scan', () => {
  const jsonish = fc.array(fc.constantFrom('{', '}', '[', ']', '"', '\\', '\\\\', '\\"', 'a', ',', ':', '"{[', ']}"', ' '), { maxLength: 200 }).map((parts) => parts.join(''));

  it('measures any text, valid JSON or not, as the character-by-character scan does', () => {
    fc.assert(
      fc.property(jsonish, fc.integer({ min: 0, max: 12 }), (text, limit) => {
        expect(jsonDepthExceeds(text, limit)).toBe(depthExceedsByCharacter(text, limit));
      }),
      { numRuns: 3000 },
    );
  });

  it('still rejects deep nesting hidden behind strings full of escapes and brackets', () => {
    const deep = `{"a":"\\\\\\"}]]]\\\\","b":${'['.repeat(70)}${']'.repeat(70)}}`;
    expect(jsonDepthExceeds(deep, 64)).toBe(true);
    expect(jsonDepthExceeds(deep, 71)).toBe(false);
    expect(depthExceedsByCharacter(deep, 64)).toBe(true);
  });
});

/** Redaction as it was: Object.keys and a lower-cased key for every field. */
function redactByKeys(value: unknown, maxDepth = 64): unknown {
  const keys = new Set(['accesskeyid', 'secretaccesskey', 'sessiontoken']);
  const walk = (v: unknown, depth: number): unknown => {
    if (depth > maxDepth) return v;
    if (Array.isArray(v)) {
      let copy: unknown[] | undefined;
      v.forEach((item, i) => {
        const r = walk(item, depth + 1);
        if (r !== item) (copy ??= v.slice())[i] = r;
      });
      return copy ?? v;
    }
    if (typeof v === 'object' && v !== null) {
      let copy: Record<string, unknown> | undefined;
      for (const k of Object.keys(v)) {
        const child = (v as Record<string, unknown>)[k];
        const r = keys.has(k.toLowerCase()) && typeof child === 'string' && child !== REDACTED ? REDACTED : walk(child, depth + 1);
        if (r !== child) (copy ??= { ...(v as Record<string, unknown>) })[k] = r;
      }
      return copy ?? v;
    }
    return v;
  };
  return walk(value, 0);
}

describe('credential redaction', () => {
  const key = fc.constantFrom('accessKeyId', 'AccessKeyId', 'secretAccessKey', 'SessionToken', 'sessiontoken', 'accessKey', 'groupId', 'items', 'token');
  const value = fc.letrec<{ node: unknown }>((tie) => ({
    node: fc.oneof(
      { depthSize: 'small' },
      fc.string(),
      fc.integer(),
      fc.constant(null),
      fc.boolean(),
      fc.array(tie('node'), { maxLength: 4 }),
      fc.dictionary(key, tie('node'), { maxKeys: 4 }),
    ),
  })).node;

  it('redacts exactly what the key-by-key walk redacts, shares what it shares, and leaves the input alone', () => {
    fc.assert(
      fc.property(value, fc.integer({ min: 0, max: 6 }), (input, maxDepth) => {
        const before = JSON.stringify(input);
        const redacted = redactCredentials(input, maxDepth);
        expect(redacted).toEqual(redactByKeys(input, maxDepth));
        expect(redacted === input).toBe(redactByKeys(input, maxDepth) === input);
        expect(JSON.stringify(input)).toBe(before);
      }),
      { numRuns: 2000 },
    );
  });

  it('keeps no access key of any generated record', () => {
    for (const { input } of inputs) {
      const text = JSON.stringify(redactCredentials(input));
      expect(text).not.toMatch(/"(accessKeyId|sessionToken|secretAccessKey)":"(?!\[redacted by driftwarden\])/i);
    }
  });
});

/** Field access as it was: exact names first, then the first key (in key order) equal ignoring case. */
function fieldByKeys(value: unknown, ...names: string[]): unknown {
  if (typeof value !== 'object' || value === null || Array.isArray(value)) return undefined;
  const record = value as Record<string, unknown>;
  for (const name of names) if (Object.prototype.hasOwnProperty.call(record, name)) return record[name];
  const keys = Object.keys(record);
  for (const name of names) {
    const key = keys.find((k) => k.toLowerCase() === name.toLowerCase());
    if (key !== undefined) return record[key];
  }
  return undefined;
}

describe('field access ignoring case', () => {
  it('finds what the key-array search finds, for any keys, including non-ASCII ones that change length', () => {
    const name = fc.constantFrom('groupId', 'GroupId', 'errorCode', 'id', 'İd', 'kelvin', '\u212Aelvin', 'ß');
    const key = fc.oneof(name, fc.string({ maxLength: 8 }), fc.constantFrom('GROUPID', 'groupid', 'i\u0307d', 'İD', 'KELVIN', '\u212AELVIN', 'SS'));
    fc.assert(
      fc.property(fc.dictionary(key, fc.integer(), { maxKeys: 8 }), fc.array(name, { minLength: 1, maxLength: 3 }), (record, names) => {
        expect(field(record, ...names)).toBe(fieldByKeys(record, ...names));
      }),
      { numRuns: 3000 },
    );
  });
});

describe('the JSON line’s one escape test for all its strings', () => {
  it('quotes every field as JSON.stringify does, whichever field needs escaping', async () => {
    const { reader } = countingReader();
    const base = await evaluateInput(inputs.find(({ name }) => name === 'positive/admin-port-ssh-open-to-world.json')!.input, { policy, reader, now: NOW, dryRun: true });
    if (!('plan' in base)) throw new Error('the sample should be an event');
    const text = fc.oneof(fc.constantFrom('plain', 'a"b', 'a\\b', '\n', '\u0000', '\ud800', '\udc00x', '\ud83d\ude00', 'é'), fc.string({ unit: 'binary', maxLength: 6 }));
    fc.assert(
      fc.property(
        fc.record({ id: text, region: text, accountId: text, time: text, eventName: text, type: text, errorCode: fc.option(text, { nil: undefined }), decision: text, severity: fc.option(text, { nil: undefined }) }),
        text,
        (f, source) => {
          const evaluation: Evaluation = {
            ...base,
            event: {
              ...base.event,
              id: f.id,
              region: f.region,
              accountId: f.accountId,
              time: f.time,
              eventName: f.eventName,
              actor: { ...base.event.actor, type: f.type as never },
              ...(f.errorCode === undefined ? { failure: undefined } : { failure: { errorCode: f.errorCode } }),
            },
            plan: { ...base.plan, decision: f.decision as never, severity: f.severity as never },
          };
          expect(jsonLineText(source, evaluation)).toBe(JSON.stringify(jsonLine(source, evaluation)));
        },
      ),
      { numRuns: 1500 },
    );
  });
});
