import { normalize, normalizeText, parseJsonText, unpackRecords } from '../../../functions/core/normalize';
import { ACCOUNT, record, viaEventBridge } from './fixtures';

describe('normalizeText: JSON text with guards', () => {
  it('normalizes a valid event', () => {
    const result = normalizeText(JSON.stringify(viaEventBridge(record('ec2.amazonaws.com', 'ImportKeyPair', { keyName: 'k' }))));
    expect(result).toMatchObject({ rejected: false, event: { accountId: ACCOUNT, change: { kind: 'key-pair', keyName: 'k' } } });
  });

  it('rejects text that is not JSON as not-json', () => {
    expect(normalizeText('{"detail-type": "AWS API Call via CloudTrail", ')).toMatchObject({ rejected: true, code: 'not-json' });
    expect(normalizeText('')).toMatchObject({ rejected: true, code: 'not-json' });
  });

  it('rejects 10,000 levels of nesting as too-deep without overflowing the stack', () => {
    const deepArrays = '['.repeat(10_000) + ']'.repeat(10_000);
    const deepObjects = '{"a":'.repeat(10_000) + '1' + '}'.repeat(10_000);
    expect(() => normalizeText(deepArrays)).not.toThrow();
    expect(normalizeText(deepArrays)).toMatchObject({ rejected: true, code: 'too-deep' });
    expect(normalizeText(deepObjects)).toMatchObject({ rejected: true, code: 'too-deep' });
  });

  it('measures depth outside strings only: brackets inside string values do not count', () => {
    const text = JSON.stringify({ note: '['.repeat(500) + '{"\\"'.repeat(100) });
    expect(parseJsonText(text)).toMatchObject({ rejected: false });
  });

  it('accepts nesting at the limit and rejects one level past it', () => {
    const nested = (levels: number) => '['.repeat(levels) + ']'.repeat(levels);
    expect(parseJsonText(nested(64))).toMatchObject({ rejected: false });
    expect(parseJsonText(nested(65))).toMatchObject({ rejected: true, code: 'too-deep' });
    expect(parseJsonText(nested(10), { maxDepth: 5 })).toMatchObject({ rejected: true, code: 'too-deep' });
  });

  it('rejects a payload over 1 MiB as too-large, counting UTF-8 bytes', () => {
    const big = JSON.stringify({ pad: 'x'.repeat(1024 * 1024) });
    expect(normalizeText(big)).toMatchObject({ rejected: true, code: 'too-large' });
    // 400,000 three-byte characters are 1.2 MB of UTF-8, though only 400,000 UTF-16 units.
    expect(normalizeText(JSON.stringify({ pad: '€'.repeat(400_000) }))).toMatchObject({ rejected: true, code: 'too-large' });
    expect(normalizeText(JSON.stringify({ pad: 'x'.repeat(100) }), { maxBytes: 50 })).toMatchObject({ rejected: true, code: 'too-large' });
  });

  it('rejects input that is not text, without throwing', () => {
    expect(parseJsonText(42 as unknown as string)).toMatchObject({ rejected: true, code: 'not-json' });
  });
});

describe('normalize: what it refuses', () => {
  it.each([null, 42, 'text', true, [], [record('ec2.amazonaws.com', 'ImportKeyPair', { keyName: 'k' })]])('rejects %p as not-an-object', (input) => {
    expect(normalize(input)).toMatchObject({ rejected: true, code: 'not-an-object' });
  });

  it('rejects an unsupported detail-type, naming it', () => {
    const result = normalize({ ...viaEventBridge({}), 'detail-type': 'EC2 Instance State-change Notification' });
    expect(result).toMatchObject({ rejected: true, code: 'unsupported-detail-type' });
    expect(result.rejected && result.reason).toContain('EC2 Instance State-change Notification');
  });

  it('rejects an event without detail as missing-field, and a non-object detail as invalid-field', () => {
    const { detail: _detail, ...noDetail } = viaEventBridge({});
    expect(normalize(noDetail)).toMatchObject({ rejected: true, code: 'missing-field' });
    expect(normalize(viaEventBridge('text'))).toMatchObject({ rejected: true, code: 'invalid-field' });
    expect(normalize({ ...viaEventBridge({}), 'detail-type': 7 })).toMatchObject({ rejected: true, code: 'invalid-field' });
  });

  it('rejects an object that is neither an event nor a record', () => {
    expect(normalize({ hello: 'world' })).toMatchObject({ rejected: true, code: 'missing-field' });
  });

  it('points a whole CloudTrail log file at unpackRecords', () => {
    const result = normalize({ Records: [] });
    expect(result.rejected && result.reason).toContain('unpackRecords');
  });

  it('reads a bare CloudTrail record as one event', () => {
    expect(normalize(record('ec2.amazonaws.com', 'ImportKeyPair', { keyName: 'k' }, { eventID: 'bare-1' }))).toMatchObject({ rejected: false, event: { id: 'bare-1' } });
  });
});

describe('unpackRecords: CloudTrail log files from S3', () => {
  it('returns the Records array of a log file, each record normalizable', () => {
    const a = record('ec2.amazonaws.com', 'ImportKeyPair', { keyName: 'a' });
    const b = record('ec2.amazonaws.com', 'CreateKeyPair', { keyName: 'b' });
    const records = unpackRecords({ Records: [a, b] });
    expect(records).toEqual([a, b]);
    expect(records!.map((r) => normalize(r)).map((r) => !r.rejected && r.event.change)).toEqual([
      { kind: 'key-pair', keyName: 'a', operation: 'import' },
      { kind: 'key-pair', keyName: 'b', operation: 'create' },
    ]);
  });

  it.each([null, [], 'x', {}, { Records: 'x' }, { records: [] }])('answers undefined for %p', (doc) => {
    expect(unpackRecords(doc)).toBeUndefined();
  });
});
