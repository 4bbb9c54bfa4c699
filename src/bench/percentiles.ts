/** Nearest-rank percentile (p in 0..100) of unsorted samples; NaN when there are none. */
export function percentile(samples: readonly number[], p: number): number {
  if (samples.length === 0) return Number.NaN;
  return nearestRank(Float64Array.from(samples).sort(), p);
}

function nearestRank(sorted: Float64Array, p: number): number {
  const rank = Math.ceil((p / 100) * sorted.length);
  return sorted[Math.min(sorted.length, Math.max(1, rank)) - 1] as number;
}

export function round(value: number, digits = 1): number {
  const scale = 10 ** digits;
  return Math.round(value * scale) / scale;
}

export interface Distribution {
  count: number;
  p50: number;
  p90: number;
  p99: number;
  max: number;
}

/** Count, nearest-rank p50/p90/p99 and maximum of unsorted samples, rounded; null for none. */
export function distribution(samples: readonly number[], digits = 3): Distribution | null {
  if (samples.length === 0) return null;
  const sorted = Float64Array.from(samples).sort();
  const at = (p: number) => round(nearestRank(sorted, p), digits);
  return { count: sorted.length, p50: at(50), p90: at(90), p99: at(99), max: at(100) };
}
