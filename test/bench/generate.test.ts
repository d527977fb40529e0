import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, relative } from 'node:path';
import { gunzipSync } from 'node:zlib';
import { generateArchive, logFileKey, seededRandom } from '../../bench/lib/generate';
import { normalize } from '../../functions/core/normalize';

const KEY = /^AWSLogs\/(\d{12})\/CloudTrail\/([a-z]{2}-[a-z]+-\d)\/(\d{4})\/(\d{2})\/(\d{2})\/\1_CloudTrail_\2_(\d{8})T(\d{4})Z_[A-Z0-9]{16}\.json\.gz$/;

describe('the CloudTrail archive generator', () => {
  let root: string;
  beforeEach(() => {
    root = mkdtempSync(join(tmpdir(), 'driftwarden-gen-'));
  });
  afterEach(() => rmSync(root, { recursive: true, force: true }));

  const read = (file: string): { Records: Record<string, unknown>[] } => JSON.parse(gunzipSync(readFileSync(file)).toString('utf8')) as { Records: Record<string, unknown>[] };

  it('lays files out the way CloudTrail delivers them to S3, with the date in the path matching the one in the name', () => {
    const summary = generateArchive({ root, files: 8, records: 400 });
    expect(summary.files).toHaveLength(8);
    for (const file of summary.files) {
      const match = KEY.exec(relative(root, file));
      expect(match).not.toBeNull();
      const [, , , y, m, d, stamp] = match!;
      expect(stamp).toBe(`${y}${m}${d}`);
    }
  });

  it('writes gzipped {"Records":[...]} files holding exactly the records asked for, spread over the files', () => {
    const summary = generateArchive({ root, files: 7, records: 1000 });
    const counts = summary.files.map((f) => read(f).Records.length);
    expect(counts.reduce((a, b) => a + b, 0)).toBe(1000);
    expect(summary.records).toBe(1000);
    expect(Math.max(...counts) - Math.min(...counts)).toBeLessThanOrEqual(1);
  });

  it('makes records that driftwarden normalizes as CloudTrail API calls, none rejected', () => {
    const summary = generateArchive({ root, files: 2, records: 600 });
    const records = summary.files.flatMap((f) => read(f).Records);
    for (const record of records) {
      const result = normalize(record);
      expect(result.rejected).toBe(false);
    }
  });

  it('is mostly read-only noise, with about the asked share of writes, and readOnly set accordingly', () => {
    const summary = generateArchive({ root, files: 4, records: 20000, writeFraction: 0.02 });
    const records = summary.files.flatMap((f) => read(f).Records);
    const writes = records.filter((r) => r.readOnly === false).length;
    expect(writes).toBe(summary.writes);
    expect(writes / records.length).toBeGreaterThan(0.015);
    expect(writes / records.length).toBeLessThan(0.025);
  });

  it('gives the same bytes for the same seed, and other bytes for another seed', () => {
    const a = generateArchive({ root: join(root, 'a'), files: 2, records: 50, seed: 7 });
    const b = generateArchive({ root: join(root, 'b'), files: 2, records: 50, seed: 7 });
    const c = generateArchive({ root: join(root, 'c'), files: 2, records: 50, seed: 8 });
    expect(readFileSync(a.files[0]).equals(readFileSync(b.files[0]))).toBe(true);
    expect(relative(join(root, 'a'), a.files[0])).toBe(relative(join(root, 'b'), b.files[0]));
    expect(readFileSync(a.files[0]).equals(readFileSync(c.files[0]))).toBe(false);
  });

  it('names a log file from its delivery time in UTC', () => {
    expect(logFileKey('111122223333', 'eu-west-1', new Date('2026-11-18T23:55:00Z'), 'ABCDEFGHIJKLMNOP')).toBe(
      'AWSLogs/111122223333/CloudTrail/eu-west-1/2026/11/18/111122223333_CloudTrail_eu-west-1_20261118T2355Z_ABCDEFGHIJKLMNOP.json.gz',
    );
  });

  it('draws from a seeded generator that stays in [0, 1)', () => {
    const next = seededRandom(1);
    const draws = Array.from({ length: 1000 }, next);
    expect(Math.min(...draws)).toBeGreaterThanOrEqual(0);
    expect(Math.max(...draws)).toBeLessThan(1);
    expect(new Set(draws).size).toBeGreaterThan(990);
  });
});
