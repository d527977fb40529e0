import { formatBytes, median, quantile, ratio, summarize } from '../../bench/lib/stats';
import { analyseCalls } from '../../bench/lib/containment';

describe('benchmark statistics', () => {
  it('takes the middle sample as the median of an odd count, whatever the order', () => {
    expect(median([9, 1, 5])).toBe(5);
    expect(median([3])).toBe(3);
  });

  it('takes the mean of the two middle samples as the median of an even count', () => {
    expect(median([4, 1, 3, 2])).toBe(2.5);
    expect(median([10, 20])).toBe(15);
  });

  it('is not moved by one outlier the way a mean is', () => {
    expect(median([10, 11, 12, 13, 500])).toBe(12);
  });

  it('does not reorder the samples it is given', () => {
    const samples = [3, 1, 2];
    median(samples);
    expect(samples).toEqual([3, 1, 2]);
  });

  it('refuses to summarise no samples rather than answer NaN', () => {
    expect(() => median([])).toThrow(RangeError);
    expect(() => quantile([], 0.5)).toThrow(RangeError);
  });

  it('interpolates quartiles between ranks', () => {
    expect(quantile([1, 2, 3, 4, 5], 0.25)).toBe(2);
    expect(quantile([1, 2, 3, 4], 0.75)).toBe(3.25);
    expect(summarize([5, 1, 4, 2, 3])).toEqual({ median: 3, p25: 2, p75: 4, runs: 5 });
  });

  it('formats ratios and sizes for the report', () => {
    expect(ratio(1, 4)).toBe('0.25×');
    expect(ratio(1, 0)).toBe('n/a');
    expect(formatBytes(2048)).toBe('2.0 KiB');
    expect(formatBytes(3 * 1024 * 1024)).toBe('3.0 MiB');
  });
});

describe('round trips of a call log', () => {
  const call = (action: string, arrivedMs: number, completedMs: number, target = '') => ({ service: 'ec2', action, target, arrivedMs, completedMs, status: 200 });

  it('puts calls sent together in the same round trip, and a call sent after an answer in the next', () => {
    const analysed = analyseCalls(
      [call('DescribeSecurityGroups', 1, 51, 'sg-1'), call('GetParameter', 2, 52), call('RevokeSecurityGroupIngress', 53, 103, 'sg-1'), call('Publish', 104, 154)],
      50,
    );
    expect(analysed.map((c) => [c.action, c.depth])).toEqual([
      ['DescribeSecurityGroups', 1],
      ['GetParameter', 1],
      ['RevokeSecurityGroupIngress', 2],
      ['Publish', 3],
    ]);
  });

  it('marks a read that repeats an identical earlier read, and never a write', () => {
    const analysed = analyseCalls(
      [call('DescribeInstances', 0, 50, 'i-1'), call('DescribeInstances', 60, 110, 'i-1'), call('DescribeInstances', 60, 110, 'i-2'), call('CreateTags', 120, 170, 'i-1'), call('CreateTags', 180, 230, 'i-1')],
      50,
    );
    expect(analysed.map((c) => c.repeatedRead)).toEqual([false, true, false, false, false]);
  });
});
