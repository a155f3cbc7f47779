// Latency percentiles of the benchmarks: the value at rank ⌊(n − 1) · share⌋ of the sorted values
// (0-based; no interpolation).
export function percentile(values: readonly number[], share: number): number {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.min(sorted.length - 1, Math.floor((sorted.length - 1) * share))] ?? Number.NaN;
}
