/**
 * A replay worker parses a log file record by record (each record from its own span of the
 * text) instead of all at once. That must change nothing: the spans are exactly the elements
 * JSON.parse would find, any text that is not plainly a log file goes the whole-text way, and
 * what a worker prints and counts for a file is byte for byte what the main thread's reading
 * of the whole text gives, for good files and bad ones (too deep, not JSON, odd envelopes).
 */
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { gunzipSync } from 'node:zlib';
import fc from 'fast-check';
import { generateArchive } from '../../bench/lib/generate';
import { inputsOfText } from '../../functions/cli/inputs';
import type { InputFile } from '../../functions/cli/inputs';
import { countEvaluation, emptyTally, renderer } from '../../functions/cli/render';
import type { OutputFormat } from '../../functions/cli/render';
import { replayFile } from '../../functions/cli/replay-worker';
import { arrayElementSpans, DEFAULT_MAX_DEPTH, jsonDepthExceeds, parseJsonText } from '../../functions/core/normalize/guards';
import type { Evaluation } from '../../functions/core/pipeline';
import { evaluateInput } from '../../functions/core/pipeline';
import { loadPolicyFile } from '../../functions/core/policy/load';
import type { Policy } from '../../functions/core/policy/schema';
import { loadSnapshotFile, SnapshotContextReader } from '../../functions/core/snapshot';
import { describeRecord, sshOpenRecord } from './helpers';

const REPO = join(__dirname, '..', '..');
const NOW = '2026-11-20T09:00:00.000Z';

/** The elements of `text` as the spans give them, parsed one by one. */
function elementsBySpans(text: string, spans: number[]): unknown[] {
  const out: unknown[] = [];
  for (let k = 0; k < spans.length; k += 2) out.push(JSON.parse(text.slice(spans[k], spans[k + 1])));
  return out;
}

/** The inputs JSON.parse finds in a whole text, as the replay unpacks them (a log file's Records, or an array). */
function elementsByWholeParse(text: string): unknown[] | undefined {
  const doc = JSON.parse(text) as unknown;
  if (Array.isArray(doc)) return doc;
  if (typeof doc === 'object' && doc !== null && Array.isArray((doc as { Records?: unknown }).Records)) return (doc as { Records: unknown[] }).Records;
  return undefined;
}

const space = fc.constantFrom('', ' ', '\n', '\r\n', '\t', '  \n ');

describe('the spans of a log file’s records', () => {
  it('are the elements JSON.parse finds, for any log file or array of JSON values, however spaced', () => {
    fc.assert(
      fc.property(fc.array(fc.jsonValue({ maxDepth: 5 }), { maxLength: 8 }), fc.boolean(), fc.array(space, { minLength: 8, maxLength: 8 }), (values, logFile, [a, b, c, d, e, f, g, h]) => {
        const elements = values.map((v) => `${a}${JSON.stringify(v, null, b.length > 0 ? 1 : undefined)}${c}`).join(`,${d}`);
        const text = logFile ? `${e}{${f}"Records"${g}:${h}[${elements}]${a}}${b}` : `${e}[${elements}]${f}`;
        const spans = arrayElementSpans(text, DEFAULT_MAX_DEPTH);
        expect(spans).toBeDefined();
        expect(elementsBySpans(text, spans!)).toEqual(elementsByWholeParse(text));
      }),
      { numRuns: 1500 },
    );
  });

  it('are given only when the text is valid JSON exactly when every span parses, with the same elements, and never for a text too deep', () => {
    // Fragments of log files, broken and rearranged: most texts are not JSON.
    const piece = fc.constantFrom('{', '}', '[', ']', '"', '\\', '\\"', ',', ':', ' ', '1', 'null', '"a"', '"Records"', '{"Records":[', ']}', '"x\\\\"', '"]}"', '{"a":[1,{"b":"}"}]}', '},{"eventVersion"', '{"eventVersion":', '{"eventVersion":1}');
    const jsonish = fc
      .tuple(fc.constantFrom('', '[', '{"Records":[', ' { "Records" :\n[ '), fc.array(piece, { maxLength: 30 }), fc.constantFrom('', ']', ']}', ' ] }\n'))
      .map(([open, parts, close]) => `${open}${parts.join('')}${close}`);
    let given = 0;
    let valid = 0;
    fc.assert(
      fc.property(jsonish, fc.integer({ min: 1, max: 6 }), (text, limit) => {
        const spans = arrayElementSpans(text, limit);
        if (spans === undefined) return;
        given++;
        let parsed: unknown[] | undefined;
        try {
          parsed = elementsBySpans(text, spans);
        } catch {
          parsed = undefined;
        }
        const whole = parseJsonText(text, { maxDepth: limit });
        if (parsed === undefined) {
          expect(whole).toMatchObject({ rejected: true, code: 'not-json' });
        } else {
          valid++;
          expect(jsonDepthExceeds(text, limit)).toBe(false);
          expect(whole.rejected).toBe(false);
          expect(parsed).toEqual(elementsByWholeParse(text));
        }
      }),
      { numRuns: 5000 },
    );
    // Both outcomes were met often enough to mean something.
    expect(given).toBeGreaterThan(200);
    expect(valid).toBeGreaterThan(50);
  });

  it('are, for log files as CloudTrail writes them, the records themselves, or spans that do not all parse when a record holds the boundary pattern', () => {
    // Records open with eventVersion, as CloudTrail writes them; some hold objects that do too, or strings that look like a boundary.
    const inner = fc.oneof(fc.jsonValue({ maxDepth: 3 }), fc.constant([{ eventVersion: '1.08', a: 1 }, { eventVersion: '1.09' }]), fc.constant('},{"eventVersion":"x"}'), fc.constant({ s: ']}' }));
    const cloudTrailRecord = fc.record({ eventVersion: fc.constantFrom('1.08', '1.10'), eventID: fc.uuid(), requestParameters: inner, responseElements: fc.option(inner, { nil: undefined }) });
    let byPattern = 0;
    fc.assert(
      fc.property(fc.array(cloudTrailRecord, { minLength: 1, maxLength: 6 }), fc.constantFrom('', '\n'), (records, trailing) => {
        const text = `{"Records":[${records.map((r) => JSON.stringify(r)).join(',')}]}${trailing}`;
        const spans = arrayElementSpans(text, DEFAULT_MAX_DEPTH);
        expect(spans).toBeDefined();
        let parsed: unknown[] | undefined;
        try {
          parsed = elementsBySpans(text, spans!);
        } catch {
          parsed = undefined;
        }
        // A record with a nested object that opens with eventVersion may be cut there: that file is read whole.
        if (parsed === undefined) expect(JSON.stringify(records.map((r) => [r.requestParameters, r.responseElements]))).toContain('{"eventVersion"');
        else {
          byPattern++;
          expect(parsed).toEqual(JSON.parse(JSON.stringify(records)));
        }
      }),
      { numRuns: 1500 },
    );
    expect(byPattern).toBeGreaterThan(200);
  });

  it('are not given for a CloudTrail log file with a record nested deeper than the limit, whatever its count of brackets', () => {
    const record = (levels: number) => `{"eventVersion":"1.08","x":${'['.repeat(levels)}${']'.repeat(levels)}}`;
    const log = (levels: number) => `{"Records":[${record(1)},${record(levels)},${record(1)}]}`;
    // Two levels of envelope, one of the record: 61 more make 64, the limit.
    expect(arrayElementSpans(log(61), 64)).toHaveLength(6);
    expect(arrayElementSpans(log(62), 64)).toBeUndefined();
    // Many brackets side by side are not depth.
    const wide = `{"Records":[{"eventVersion":"1.08","x":[${'[],'.repeat(200)}[]]}]}`;
    expect(arrayElementSpans(wide, 64)).toHaveLength(2);
  });

  it('are not given for a text nested deeper than the limit, envelope included, nor for other shapes', () => {
    const deep = (levels: number) => `{"Records":[${'['.repeat(levels)}${']'.repeat(levels)}]}`;
    // The envelope is two levels: 62 more make 64, the limit.
    expect(arrayElementSpans(deep(62), 64)).toHaveLength(2);
    expect(arrayElementSpans(deep(63), 64)).toBeUndefined();
    expect(jsonDepthExceeds(deep(63), 64)).toBe(true);
    for (const text of ['{"Records":[1],"more":2}', '{"records":[1]}', '{"Rec\\u006frds":[1]}', '{"Records":[1]}x', '{"Records":[1}', '{"Records":[1]]', '"Records"', '[1,"2]', '\ufeff[1]']) {
      expect({ text, spans: arrayElementSpans(text, 64) }).toEqual({ text, spans: undefined });
    }
    expect(arrayElementSpans('{"Records":[]}', 64)).toEqual([]);
    expect(arrayElementSpans('[ \n ]', 64)).toEqual([]);
  });

  it('measures a record nested a hundred thousand levels deep without recursion', () => {
    const text = `{"Records":[${'{"a":'.repeat(100_000)}1${'}'.repeat(100_000)}]}`;
    expect(arrayElementSpans(text, 64)).toBeUndefined();
  });
});

describe('a file replayed record by record in a worker', () => {
  let policy: Policy;
  let reader: SnapshotContextReader;
  let dir: string;

  beforeAll(() => {
    policy = loadPolicyFile(join(REPO, 'events/policy.yaml'));
    reader = new SnapshotContextReader(loadSnapshotFile(join(REPO, 'events/account-snapshot.json')));
    dir = mkdtempSync(join(tmpdir(), 'driftwarden-by-element-'));
  });

  /** What the main thread prints and counts for a file: its whole text parsed once, event by event. */
  async function replayedWhole(file: InputFile, text: string, format: OutputFormat) {
    const render = renderer(format);
    const tally = emptyTally();
    let out = '';
    for (const item of inputsOfText(file, text)) {
      const evaluation: Evaluation = 'rejection' in item ? { rejection: item.rejection } : await evaluateInput(item.value, { policy, reader, now: NOW, dryRun: true });
      countEvaluation(tally, item.source, evaluation);
      out += render(item.source, evaluation);
    }
    return { text: out, tally };
  }

  async function expectSameAsWhole(name: string, text: string): Promise<string> {
    const path = join(dir, name);
    writeFileSync(path, text);
    const file: InputFile = { path, format: 'json', size: text.length };
    for (const format of [{ json: true }, { json: false, table: { width: 140, color: false } }] as OutputFormat[]) {
      const setup = { policy, reader, now: NOW, render: renderer(format) };
      const worker = await replayFile(file, setup);
      const expected = await replayedWhole(file, text, format);
      expect(Buffer.from(worker.bytes).toString('utf8')).toBe(expected.text);
      expect(worker.tally).toEqual(expected.tally);
    }
    return Buffer.from((await replayFile(file, { policy, reader, now: NOW, render: renderer({ json: true }) })).bytes).toString('utf8');
  }

  it('prints and counts exactly what the whole text gives, for generated log files of mixed activity', async () => {
    const summary = generateArchive({ root: join(dir, 'archive'), files: 3, records: 600, writeFraction: 0.3, seed: 5 });
    for (const [i, gz] of summary.files.entries()) {
      const text = gunzipSync(readFileSync(gz)).toString('utf8');
      const printed = await expectSameAsWhole(`generated-${i}.json`, text);
      expect(printed.split('\n').filter(Boolean)).toHaveLength((JSON.parse(text) as { Records: unknown[] }).Records.length);
    }
  });

  it('rejects a file with one record nested too deep as the whole text does: the file, too-deep, no stack overflow', async () => {
    const deep = { ...describeRecord('00000000-0000-4000-8000-0000000000d1'), requestParameters: JSON.parse(`${'{"a":'.repeat(80)}1${'}'.repeat(80)}`) as unknown };
    const printed = await expectSameAsWhole('deep.json', JSON.stringify({ Records: [describeRecord('00000000-0000-4000-8000-0000000000d0'), deep] }));
    expect(printed.trim().split('\n')).toHaveLength(1);
    expect(JSON.parse(printed)).toMatchObject({ code: 'too-deep', eventId: null });

    const veryDeep = `{"Records":[${JSON.stringify(describeRecord('00000000-0000-4000-8000-0000000000d2'))},${'['.repeat(200_000)}${']'.repeat(200_000)}]}`;
    expect(JSON.parse(await expectSameAsWhole('very-deep.json', veryDeep))).toMatchObject({ code: 'too-deep' });
  });

  it('rejects a file whose third record is not JSON as the whole text does: one not-json rejection, none of the records before it', async () => {
    const good = JSON.stringify(describeRecord('00000000-0000-4000-8000-0000000000e0'));
    const printed = await expectSameAsWhole('broken.json', `{"Records":[${good},${good},{"eventID": oops},${good}]}`);
    expect(printed.trim().split('\n')).toHaveLength(1);
    expect(JSON.parse(printed)).toMatchObject({ code: 'not-json' });
  });

  it('reads arrays, empty log files, envelopes with other keys and single events as the whole text does', async () => {
    const ssh = sshOpenRecord('00000000-0000-4000-8000-0000000000f0');
    const describe = describeRecord('00000000-0000-4000-8000-0000000000f1');
    await expectSameAsWhole('array.json', JSON.stringify([ssh, 42, null, describe], null, 2));
    await expectSameAsWhole('empty.json', '{ "Records" : [ ] }\n');
    await expectSameAsWhole('envelope.json', JSON.stringify({ Records: [ssh], digest: 'x' }));
    await expectSameAsWhole('later-records.json', `{"Records":[${JSON.stringify(describe)}],"Records":[${JSON.stringify(ssh)}]}`);
    await expectSameAsWhole('single.json', JSON.stringify(ssh));
    await expectSameAsWhole('escaped.json', JSON.stringify({ Records: [{ ...describe, userAgent: 'say "hi" \\ [{,}] \u2028 \ud83d\ude00' }] }));
  });
});
