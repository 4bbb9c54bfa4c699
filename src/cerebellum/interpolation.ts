/**
 * Evaluates an action chunk (H steps of J values, step-major, steps `dt` seconds apart,
 * step 0 at time 0) at any time inside it, for the control rate. `linear` is piecewise
 * linear; `cubic` is a cubic Hermite spline with Catmull-Rom slopes (one-sided at the ends),
 * so velocity is continuous across steps.
 */
export type Interpolation = 'linear' | 'cubic';

/** Writes the chunk's value at `t` (seconds from step 0, clamped to the chunk) into `out`. */
export function sampleChunk(
  values: Float64Array,
  horizon: number,
  joints: number,
  dt: number,
  t: number,
  mode: Interpolation,
  out: Float64Array,
): void {
  const last = horizon - 1;
  const s = Math.min(Math.max(t / dt, 0), last);
  const k = Math.min(Math.floor(s), Math.max(last - 1, 0));
  const u = last === 0 ? 0 : s - k;
  for (let j = 0; j < joints; j++) {
    const p0 = values[k * joints + j] as number;
    if (last === 0) {
      out[j] = p0;
      continue;
    }
    const p1 = values[(k + 1) * joints + j] as number;
    if (mode === 'linear') {
      out[j] = p0 + (p1 - p0) * u;
      continue;
    }
    // Slopes in units per step: central differences inside, one-sided at the ends.
    const pm = k > 0 ? (values[(k - 1) * joints + j] as number) : p0;
    const p2 = k + 1 < last ? (values[(k + 2) * joints + j] as number) : p1;
    const m0 = k > 0 ? (p1 - pm) / 2 : p1 - p0;
    const m1 = k + 1 < last ? (p2 - p0) / 2 : p1 - p0;
    const u2 = u * u;
    const u3 = u2 * u;
    out[j] =
      (2 * u3 - 3 * u2 + 1) * p0 +
      (u3 - 2 * u2 + u) * m0 +
      (-2 * u3 + 3 * u2) * p1 +
      (u3 - u2) * m1;
  }
}
