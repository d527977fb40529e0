/**
 * Small statistics for benchmark samples. The median is the figure we report: a noisy
 * neighbour on a shared 2-core machine skews a mean, not a median.
 */

/** The median of the samples (the mean of the two middle ones when their count is even). */
export function median(samples: readonly number[]): number {
  if (samples.length === 0) throw new RangeError('median of no samples');
  const sorted = [...samples].sort((a, b) => a - b);
  const mid = sorted.length >> 1;
  return sorted.length % 2 === 1 ? sorted[mid] : (sorted[mid - 1] + sorted[mid]) / 2;
}

/** The p-quantile (0..1) by linear interpolation between closest ranks. */
export function quantile(samples: readonly number[], p: number): number {
  if (samples.length === 0) throw new RangeError('quantile of no samples');
  if (p < 0 || p > 1) throw new RangeError(`quantile ${p} is outside 0..1`);
  const sorted = [...samples].sort((a, b) => a - b);
  const rank = p * (sorted.length - 1);
  const low = Math.floor(rank);
  const high = Math.ceil(rank);
  return sorted[low] + (sorted[high] - sorted[low]) * (rank - low);
}

/** Median with the interquartile range, for a table cell. */
export interface Summary {
  median: number;
  p25: number;
  p75: number;
  runs: number;
}

export function summarize(samples: readonly number[]): Summary {
  return { median: median(samples), p25: quantile(samples, 0.25), p75: quantile(samples, 0.75), runs: samples.length };
}

/** `a / b` to two decimals, as the "×" figure of a comparison. */
export function ratio(a: number, b: number): string {
  if (b === 0) return 'n/a';
  return `${(a / b).toFixed(2)}×`;
}

/** Bytes in KiB or MiB, one decimal. */
export function formatBytes(bytes: number): string {
  if (bytes >= 1024 * 1024) return `${(bytes / (1024 * 1024)).toFixed(1)} MiB`;
  return `${(bytes / 1024).toFixed(1)} KiB`;
}
