import { Observable, type OperatorFunction } from 'rxjs';
import { type ApproximateTimeOptions, ApproximateTimeSynchronizer } from './approximate-time.js';

/**
 * Sensor messages from any source (ROS topics, the observation bus, a recording), as the
 * observation pipeline sees them: which topic, when captured, when received, and the
 * payload, which this module never looks into.
 */
export interface SensorEvent<P = unknown> {
  topic: string;
  stampNs: bigint;
  /** When this process received it (monotonic clock, ns): for latency accounting only. */
  receivedNs: bigint;
  payload: P;
}

/** One synchronised observation: a message per topic, in the order the topics were named. */
export interface SyncedSet<P = unknown> {
  events: SensorEvent<P>[];
  /** The stamp of the first topic's message (the primary camera): the observation's time. */
  stampNs: bigint;
  /** When the set became complete (the last message's receive time). */
  receivedNs: bigint;
}

export interface SyncCounters {
  /** Messages on topics the synchroniser was not told about. */
  unknownTopic: number;
  /** Messages stamped earlier than the previous one on their topic (never synchronised). */
  outOfOrder: number;
  /** Messages dropped because their topic's queue overflowed, by topic. */
  overflow: Record<string, number>;
  sets: number;
}

export function newSyncCounters(): SyncCounters {
  return { unknownTopic: 0, outOfOrder: 0, overflow: {}, sets: 0 };
}

/**
 * ApproximateTime synchronisation of `topics` (message_filters semantics, see
 * approximate-time.ts). One topic passes every message straight through.
 */
export function synchronize<P>(
  topics: readonly string[],
  options: ApproximateTimeOptions,
  counters: SyncCounters = newSyncCounters(),
): OperatorFunction<SensorEvent<P>, SyncedSet<P>> {
  return (source) =>
    new Observable<SyncedSet<P>>((subscriber) => {
      const index = new Map(topics.map((t, i) => [t, i]));
      const lastStamp = topics.map(() => -1n);
      const sync = new ApproximateTimeSynchronizer<SensorEvent<P>>(
        topics.length,
        options,
        (events) => {
          counters.sets++;
          let receivedNs = 0n;
          for (const e of events) if (e.receivedNs > receivedNs) receivedNs = e.receivedNs;
          subscriber.next({ events, stampNs: (events[0] as SensorEvent<P>).stampNs, receivedNs });
        },
      );
      const subscription = source.subscribe({
        next: (event) => {
          const i = index.get(event.topic);
          if (i === undefined) {
            counters.unknownTopic++;
            return;
          }
          if (event.stampNs < (lastStamp[i] as bigint)) {
            counters.outOfOrder++;
            return;
          }
          lastStamp[i] = event.stampNs;
          sync.add(i, event);
          topics.forEach((t, k) => {
            if (sync.overflows[k]) counters.overflow[t] = sync.overflows[k] as number;
          });
        },
        error: (err) => subscriber.error(err),
        complete: () => subscriber.complete(),
      });
      return () => subscription.unsubscribe();
    });
}
