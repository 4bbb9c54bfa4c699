/** Resolves on SIGINT or SIGTERM, or after `seconds` if given: how long-running commands end. */
export function runUntilStopped(seconds?: number): Promise<string> {
  return new Promise((resolve) => {
    const finish = (why: string) => {
      process.off('SIGINT', onInt);
      process.off('SIGTERM', onTerm);
      clearTimeout(timer);
      resolve(why);
    };
    const onInt = () => finish('SIGINT');
    const onTerm = () => finish('SIGTERM');
    process.on('SIGINT', onInt);
    process.on('SIGTERM', onTerm);
    const timer =
      seconds === undefined ? undefined : setTimeout(() => finish('duration'), seconds * 1000);
  });
}

/** One JSON object per line on stdout: the machine-readable output of long-running commands. */
export function emitJson(event: string, fields: Record<string, unknown>): void {
  process.stdout.write(
    `${JSON.stringify({ event, ...fields }, (_k, v) => (typeof v === 'bigint' ? v.toString() : v))}\n`,
  );
}
