/**
 * ROS message_filters' ApproximateTime policy (approximate_time.h), for N topics: it emits
 * sets of one message per topic whose stamps lie close together. Each message is used at
 * most once; sets never cross (every message of a set is at least as late as every message
 * of the previous set on the same topic); and the output depends only on the stamps and the
 * queue size, not on arrival timing — so a recording replayed gives the same sets.
 *
 * The algorithm: per topic a queue of waiting messages and a list of "past" messages that
 * were passed over while searching. The pivot is the latest head when the search starts; a
 * set containing it is only emitted once it is provably the tightest one (its span cannot
 * be beaten by any set that is still possible), measured with `agePenalty` favouring
 * earlier sets. A queue that overflows drops its oldest message and restarts the search.
 */

export interface Stamped {
  stampNs: bigint;
}

export interface ApproximateTimeOptions {
  /** Messages kept per topic (waiting and passed over together). */
  queueSize: number;
  /** Sets spanning more than this are never emitted (ns); default unbounded. */
  maxIntervalNs?: bigint;
  /** How much an older set is favoured over a tighter newer one; ROS's default 0.1. */
  agePenalty?: number;
}

export class ApproximateTimeSynchronizer<T extends Stamped> {
  private readonly queues: T[][];
  private readonly past: T[][];
  private readonly dropped: boolean[];
  private readonly maxIntervalNs: bigint;
  private readonly agePenalty: number;
  private nonEmpty = 0;
  private pivot = -1;
  private pivotNs = 0n;
  private candidate: T[] | undefined;
  private candidateStartNs = 0n;
  private candidateEndNs = 0n;
  /** Messages dropped because a topic's queue overflowed, per topic. */
  readonly overflows: number[];

  constructor(
    readonly topics: number,
    private readonly options: ApproximateTimeOptions,
    private readonly emit: (set: T[]) => void,
  ) {
    if (!Number.isInteger(topics) || topics < 1) throw new RangeError('topics must be >= 1');
    if (!Number.isInteger(options.queueSize) || options.queueSize < 1) {
      throw new RangeError('queueSize must be a positive integer');
    }
    this.queues = Array.from({ length: topics }, () => []);
    this.past = Array.from({ length: topics }, () => []);
    this.dropped = new Array(topics).fill(false);
    this.overflows = new Array(topics).fill(0);
    this.maxIntervalNs = options.maxIntervalNs ?? (1n << 63n) - 1n;
    this.agePenalty = options.agePenalty ?? 0.1;
  }

  add(topic: number, message: T): void {
    const queue = this.queues[topic];
    if (queue === undefined) throw new RangeError(`topic ${topic} is not in 0..${this.topics - 1}`);
    queue.push(message);
    if (queue.length === 1) {
      this.nonEmpty++;
      if (this.nonEmpty === this.topics) this.process();
    }
    if (queue.length + (this.past[topic] as T[]).length > this.options.queueSize) {
      // Give up the current search, drop the oldest message of this topic, search again.
      for (let i = 0; i < this.topics; i++) this.recover(i, Number.POSITIVE_INFINITY);
      queue.shift();
      this.countNonEmpty();
      this.overflows[topic] = (this.overflows[topic] as number) + 1;
      this.dropped[topic] = true;
      if (this.pivot >= 0) {
        this.candidate = undefined;
        this.pivot = -1;
        this.process();
      }
    }
  }

  /** Moves the last `count` passed-over messages of `topic` back to the front of its queue. */
  private recover(topic: number, count: number): void {
    const past = this.past[topic] as T[];
    const queue = this.queues[topic] as T[];
    const n = Math.min(count, past.length);
    if (n > 0) queue.unshift(...past.splice(past.length - n, n));
  }

  private countNonEmpty(): void {
    this.nonEmpty = this.queues.reduce((n, q) => n + (q.length > 0 ? 1 : 0), 0);
  }

  private deleteFront(topic: number): void {
    const queue = this.queues[topic] as T[];
    queue.shift();
    if (queue.length === 0) this.nonEmpty--;
  }

  private moveFrontToPast(topic: number): void {
    const queue = this.queues[topic] as T[];
    (this.past[topic] as T[]).push(queue.shift() as T);
    if (queue.length === 0) this.nonEmpty--;
  }

  private makeCandidate(): void {
    this.candidate = this.queues.map((q) => q[0] as T);
    for (const past of this.past) past.length = 0;
  }

  /** Emits the candidate and removes its messages; what was passed over is waiting again. */
  private publishCandidate(): void {
    const set = this.candidate as T[];
    this.candidate = undefined;
    this.pivot = -1;
    for (let i = 0; i < this.topics; i++) {
      this.recover(i, Number.POSITIVE_INFINITY);
      (this.queues[i] as T[]).shift();
    }
    this.countNonEmpty();
    this.emit(set);
  }

  /** The index and stamp of the earliest (`end` false) or latest (`end` true) head. */
  private boundary(end: boolean, virtual: boolean): [number, bigint] {
    let index = 0;
    let time = this.headTime(0, virtual);
    for (let i = 1; i < this.topics; i++) {
      const t = this.headTime(i, virtual);
      // As in ROS: ties go to the later topic for the end, the earlier one for the start.
      if (end ? t >= time : t < time) {
        index = i;
        time = t;
      }
    }
    return [index, time];
  }

  /**
   * A topic's head stamp; for an empty queue in the virtual search, the optimistic guess
   * that its next message comes no earlier than its last passed-over one, nor than the pivot.
   */
  private headTime(topic: number, virtual: boolean): bigint {
    const queue = this.queues[topic] as T[];
    if (queue.length > 0) return (queue[0] as T).stampNs;
    if (!virtual) throw new Error('headTime of an empty queue');
    const past = this.past[topic] as T[];
    const last = past.length > 0 ? (past[past.length - 1] as T).stampNs : 0n;
    return last > this.pivotNs ? last : this.pivotNs;
  }

  /** (a − b)·(1 + agePenalty) ≥ (c − d), in nanoseconds. */
  private notBetter(a: bigint, b: bigint, c: bigint, d: bigint): boolean {
    return Number(a - b) * (1 + this.agePenalty) >= Number(c - d);
  }

  private process(): void {
    while (this.nonEmpty === this.topics) {
      const [endIndex, endNs] = this.boundary(true, false);
      const [startIndex, startNs] = this.boundary(false, false);
      for (let i = 0; i < this.topics; i++) if (i !== endIndex) this.dropped[i] = false;
      if (this.pivot < 0) {
        if (endNs - startNs > this.maxIntervalNs || this.dropped[endIndex]) {
          // Too wide, or its pivot lost messages that might have made a better set.
          this.deleteFront(startIndex);
          continue;
        }
        this.makeCandidate();
        this.candidateStartNs = startNs;
        this.candidateEndNs = endNs;
        this.pivot = endIndex;
        this.pivotNs = endNs;
        this.moveFrontToPast(startIndex);
      } else {
        if (!this.notBetter(endNs, this.candidateEndNs, startNs, this.candidateStartNs)) {
          this.makeCandidate();
          this.candidateStartNs = startNs;
          this.candidateEndNs = endNs;
        }
        this.moveFrontToPast(startIndex);
      }
      if (startIndex === this.pivot) {
        // Every set containing the pivot has been tried.
        this.publishCandidate();
      } else if (this.notBetter(endNs, this.candidateEndNs, this.pivotNs, this.candidateStartNs)) {
        // Any later set must span [pivot, end], already wider than the candidate.
        this.publishCandidate();
      } else if (this.nonEmpty < this.topics) {
        this.virtualSearch();
      }
    }
  }

  /**
   * Tries to prove the candidate optimal before more messages arrive, assuming optimistically
   * that each empty topic's next message comes right after its last one.
   */
  private virtualSearch(): void {
    const moves = new Array<number>(this.topics).fill(0);
    for (;;) {
      const [, endNs] = this.boundary(true, true);
      const [startIndex, startNs] = this.boundary(false, true);
      if (this.notBetter(endNs, this.candidateEndNs, this.pivotNs, this.candidateStartNs)) {
        this.publishCandidate();
        return;
      }
      if (!this.notBetter(endNs, this.candidateEndNs, startNs, this.candidateStartNs)) {
        // A better set may still come: undo the virtual moves and wait.
        for (let i = 0; i < this.topics; i++) this.recover(i, moves[i] as number);
        this.countNonEmpty();
        return;
      }
      this.moveFrontToPast(startIndex);
      moves[startIndex] = (moves[startIndex] as number) + 1;
    }
  }
}
