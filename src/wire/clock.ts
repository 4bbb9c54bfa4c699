/**
 * Stamps at every boundary are integer nanoseconds since the Unix epoch (as ROS and MCAP
 * carry them). Date.now() has only millisecond resolution, so the wall clock is read
 * once, at a millisecond edge, and carried forward on the monotonic high-resolution clock:
 * stamps have nanosecond resolution and never step backwards within a process.
 */
function calibrate(): bigint {
  const start = Date.now();
  let edge = Date.now();
  while (edge === start) edge = Date.now();
  return BigInt(edge) * 1_000_000n - process.hrtime.bigint();
}

const offsetNs = calibrate();

/** Epoch nanoseconds now. */
export function epochNowNs(): bigint {
  return process.hrtime.bigint() + offsetNs;
}
