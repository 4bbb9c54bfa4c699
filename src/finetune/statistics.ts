import type { NormalizationStats } from '../contract/index.js';

/**
 * Per-dimension statistics of a dataset's actions (or states), as OpenVLA's
 * `dataset_statistics.json` holds them and the ActionSpec loads them (src/contract): mean,
 * population std (numpy's default), min, max, and the 1st and 99th percentiles by numpy's
 * default (linear) interpolation, plus the count of vectors they were computed from.
 */

export interface DatasetStats extends NormalizationStats {
  count: number;
}

export class StatsAccumulator {
  private readonly values: number[][];

  constructor(readonly dims: number) {
    this.values = Array.from({ length: dims }, () => []);
  }

  /** Whole vectors of `dims` values, step-major (an action chunk, a joint state). */
  add(vectors: ArrayLike<number>): void {
    if (vectors.length % this.dims !== 0) {
      throw new RangeError(`${vectors.length} values are not whole vectors of ${this.dims}`);
    }
    for (let i = 0; i < vectors.length; i++) {
      (this.values[i % this.dims] as number[]).push(vectors[i] as number);
    }
  }

  get count(): number {
    return this.values[0]?.length ?? 0;
  }

  /** Per dimension, the quantiles `qs` (numpy's linear interpolation). */
  quantiles(qs: readonly number[]): number[][] {
    return qs.map((q) =>
      this.values.map((column) => quantile(Float64Array.from(column).sort(), q)),
    );
  }

  /** Statistics of what was added; `mask` as the spec normalizes (all true by default). */
  result(mask?: readonly boolean[]): DatasetStats {
    if (this.count === 0) throw new RangeError('no values to compute statistics from');
    const stats: DatasetStats = {
      mean: [],
      std: [],
      min: [],
      max: [],
      q01: [],
      q99: [],
      mask: mask ? [...mask] : new Array<boolean>(this.dims).fill(true),
      count: this.count,
    };
    for (const column of this.values) {
      const sorted = Float64Array.from(column).sort();
      const n = sorted.length;
      let sum = 0;
      for (const x of sorted) sum += x;
      const mean = sum / n;
      let squares = 0;
      for (const x of sorted) squares += (x - mean) ** 2;
      stats.mean.push(mean);
      stats.std.push(Math.sqrt(squares / n));
      stats.min.push(sorted[0] as number);
      stats.max.push(sorted[n - 1] as number);
      stats.q01.push(quantile(sorted, 0.01));
      stats.q99.push(quantile(sorted, 0.99));
    }
    return stats;
  }
}

/** numpy.quantile's default ('linear') on sorted values. */
export function quantile(sorted: Float64Array, q: number): number {
  const position = q * (sorted.length - 1);
  const lo = Math.floor(position);
  const hi = Math.min(lo + 1, sorted.length - 1);
  const a = sorted[lo] as number;
  return a + (position - lo) * ((sorted[hi] as number) - a);
}

/**
 * The statistics file: `{<key>: {action, proprio, num_transitions, num_trajectories}}`, the
 * layout calibration/ and OpenVLA read (an ActionSpec's `statistics: {file, key}`).
 */
export function statisticsFile(
  key: string,
  action: DatasetStats,
  proprio: DatasetStats,
  trajectories: number,
): Record<string, unknown> {
  return {
    [key]: { action, proprio, num_transitions: action.count, num_trajectories: trajectories },
  };
}
