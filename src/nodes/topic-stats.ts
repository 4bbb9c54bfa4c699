import { percentile, round } from '../bench/percentiles.js';

/**
 * What `pons inspect` says about every topic of a recording, whatever its type: message
 * count, first and last log time, mean rate, the gaps between messages (the largest, and how
 * many exceed a factor × the median period: a stalled camera, a paused brain) and message
 * sizes. Times are the file's log times (when the recorder received or sent the message),
 * the one clock every topic of a file shares.
 */

export interface TopicSummary {
  topic: string;
  type: string;
  messages: number;
  first_ns: bigint;
  last_ns: bigint;
  duration_s: number;
  /** (messages − 1) / duration; null below two messages or with no time between them. */
  rate_hz: number | null;
  /** Null below two messages. */
  period_ms: { median: number; largest: number; largest_after_s: number } | null;
  /** Periods longer than `factor` × the median. */
  gaps: { factor: number; count: number; total_s: number };
  size_bytes: { min: number; mean: number; max: number; total: number };
}

export class TopicStats {
  private readonly times: bigint[] = [];
  private sizeMin = Number.POSITIVE_INFINITY;
  private sizeMax = 0;
  private sizeTotal = 0;
  /** Earliest and latest log time (a topic's log times need not be in file order). */
  first: bigint | undefined;
  last: bigint | undefined;

  constructor(
    readonly topic: string,
    readonly type: string,
  ) {}

  get messages(): number {
    return this.times.length;
  }

  add(logTimeNs: bigint, bytes: number): void {
    this.times.push(logTimeNs);
    if (this.first === undefined || logTimeNs < this.first) this.first = logTimeNs;
    if (this.last === undefined || logTimeNs > this.last) this.last = logTimeNs;
    this.sizeMin = Math.min(this.sizeMin, bytes);
    this.sizeMax = Math.max(this.sizeMax, bytes);
    this.sizeTotal += bytes;
  }

  /** `startNs`: the recording's first log time, where "after s" counts from. */
  summary(gapFactor: number, startNs: bigint): TopicSummary {
    const times = this.sortedTimes();
    const n = times.length;
    const first = times[0] ?? 0n;
    const last = times[n - 1] ?? 0n;
    const durationS = Number(last - first) / 1e9;
    const periods: number[] = [];
    let largest = 0;
    for (let i = 1; i < n; i++) {
      periods.push(Number((times[i] as bigint) - (times[i - 1] as bigint)) / 1e6);
      if ((periods[i - 1] as number) > (periods[largest] as number)) largest = i - 1;
    }
    const median = periods.length === 0 ? 0 : percentile(periods, 50);
    let gapCount = 0;
    let gapMs = 0;
    for (const p of periods) {
      if (p > gapFactor * median) {
        gapCount++;
        gapMs += p;
      }
    }
    return {
      topic: this.topic,
      type: this.type,
      messages: n,
      first_ns: first,
      last_ns: last,
      duration_s: round(durationS, 3),
      rate_hz: n >= 2 && durationS > 0 ? round((n - 1) / durationS, 3) : null,
      period_ms:
        periods.length === 0
          ? null
          : {
              median: round(median, 3),
              largest: round(periods[largest] as number, 3),
              largest_after_s: round(Number((times[largest] as bigint) - startNs) / 1e9, 3),
            },
      gaps: { factor: gapFactor, count: gapCount, total_s: round(gapMs / 1000, 3) },
      size_bytes: {
        min: n === 0 ? 0 : this.sizeMin,
        mean: n === 0 ? 0 : round(this.sizeTotal / n, 1),
        max: this.sizeMax,
        total: this.sizeTotal,
      },
    };
  }

  /** Messages per second in `bins` equal windows from `startNs` to `endNs`: [mid s, Hz]. */
  rateSeries(startNs: bigint, endNs: bigint, bins: number): [number, number][] {
    const spanS = Math.max(Number(endNs - startNs) / 1e9, 1e-9);
    const width = spanS / bins;
    const counts = new Array<number>(bins).fill(0);
    for (const t of this.times) {
      const bin = Math.min(bins - 1, Math.floor(Number(t - startNs) / 1e9 / width));
      counts[bin] = (counts[bin] as number) + 1;
    }
    return counts.map((c, i) => [(i + 0.5) * width, c / width]);
  }

  private sortedTimes(): bigint[] {
    return [...this.times].sort((a, b) => (a < b ? -1 : a > b ? 1 : 0));
  }
}
