/**
 * Recorded time played back: waits until `sinceFirstNs` of recorded time, scaled by
 * `speed`, has passed since `startedMs` (performance.now()). Resolves at once when due.
 */
export async function untilDue(
  sinceFirstNs: bigint,
  speed: number,
  startedMs: number,
): Promise<void> {
  const wait = Number(sinceFirstNs) / 1e6 / speed - (performance.now() - startedMs);
  if (wait > 0) await new Promise((resolve) => setTimeout(resolve, wait));
}
