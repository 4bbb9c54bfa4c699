import { Observable, type OperatorFunction } from 'rxjs';

/**
 * The gate in front of the model: at most one inference in flight, and while it runs only
 * the newest observation waits (each newer one replaces it, counted as superseded), so no
 * queue ever grows and the model always starts on the freshest data. An observation that
 * has grown older than `maxAgeNs` by the time the model is free is dropped as stale. A run
 * that fails (a bad frame, say) is reported and counted; the stream goes on. With
 * `minPeriodNs`, runs start at least that far apart (a model trained to decide at a given
 * rate): an observation that would start one sooner is dropped, counted as throttled, and
 * the first one after the period starts at once.
 */

export interface GateCounters {
  admitted: number;
  superseded: number;
  stale: number;
  failed: number;
  /** Observations refused by `ready()` (the cerebellum is e-stopped, say). */
  paused: number;
  /** Observations dropped because the last run started less than `minPeriodNs` ago. */
  throttled: number;
}

export interface GateOptions<T> {
  maxAgeNs: bigint;
  /** The observation's capture stamp. */
  stampOf: (observation: T) => bigint;
  /** Current time on the observations' clock. */
  now: () => bigint;
  /** Checked when a run would start; false drops the observation as paused. */
  ready?: () => boolean;
  /** Least time between the starts of two runs (on the `now` clock); none by default. */
  minPeriodNs?: bigint;
  onError?: (err: unknown, observation: T) => void;
  counters?: GateCounters;
}

export interface GateResult<T, R> {
  observation: T;
  result: R;
  /** ns from the observation reaching the gate to its run starting (a busy model's wait). */
  waitedNs: bigint;
}

export function newGateCounters(): GateCounters {
  return { admitted: 0, superseded: 0, stale: 0, failed: 0, paused: 0, throttled: 0 };
}

export function newestWins<T, R>(
  run: (observation: T) => Promise<R>,
  options: GateOptions<T>,
): OperatorFunction<T, GateResult<T, R>> {
  const counters = options.counters ?? newGateCounters();
  return (source) =>
    new Observable<GateResult<T, R>>((subscriber) => {
      let busy = false;
      let pending: { observation: T; arrivedNs: bigint } | undefined;
      let done = false;
      let lastStartNs: bigint | undefined;

      const start = (observation: T, arrivedNs: bigint) => {
        if (options.ready && !options.ready()) {
          counters.paused++;
          return;
        }
        const now = options.now();
        if (
          options.minPeriodNs !== undefined &&
          lastStartNs !== undefined &&
          now - lastStartNs < options.minPeriodNs
        ) {
          counters.throttled++;
          return;
        }
        if (now - options.stampOf(observation) > options.maxAgeNs) {
          counters.stale++;
          return;
        }
        counters.admitted++;
        busy = true;
        lastStartNs = now;
        run(observation)
          .then(
            (result) => subscriber.next({ observation, result, waitedNs: now - arrivedNs }),
            (err: unknown) => {
              counters.failed++;
              options.onError?.(err, observation);
            },
          )
          .finally(() => {
            busy = false;
            const next = pending;
            pending = undefined;
            if (next !== undefined) start(next.observation, next.arrivedNs);
            if (!busy && done) subscriber.complete();
          });
      };

      const subscription = source.subscribe({
        next: (observation) => {
          if (!busy) {
            start(observation, options.now());
            return;
          }
          if (pending !== undefined) counters.superseded++;
          pending = { observation, arrivedNs: options.now() };
        },
        error: (err) => subscriber.error(err),
        complete: () => {
          done = true;
          if (!busy) subscriber.complete();
        },
      });
      return () => subscription.unsubscribe();
    });
}
