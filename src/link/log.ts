/** What the link needs of a logger; nodes pass theirs in. */
export interface LinkLog {
  info(message: string): void;
  warn(message: string): void;
}

export const stderrLog: LinkLog = nodeLog('link');

/**
 * Logs the first occurrence of a key at once and later ones at most every `intervalMs`,
 * with how many were held back, so a misbehaving peer cannot flood the log.
 */
export class RateLimitedLog {
  private readonly last = new Map<string, { at: number; held: number }>();

  constructor(
    private readonly log: LinkLog,
    private readonly intervalMs = 10_000,
  ) {}

  warn(key: string, message: string): void {
    const now = Date.now();
    const entry = this.last.get(key);
    if (entry && now - entry.at < this.intervalMs) {
      entry.held++;
      return;
    }
    const held = entry?.held ? ` (${entry.held} more since the last report)` : '';
    this.last.set(key, { at: now, held: 0 });
    this.log.warn(`${message}${held}`);
  }
}

/** A stderr log for a node: `[pons <name>] message`. */
export function nodeLog(name: string): LinkLog {
  return {
    info: (message) => process.stderr.write(`[pons ${name}] ${message}\n`),
    warn: (message) => process.stderr.write(`[pons ${name}] WARN ${message}\n`),
  };
}
